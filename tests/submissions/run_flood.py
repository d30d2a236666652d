import sys

chunk = "x" * 2**20
for _ in range(100):  # 100 MB of output
    sys.stdout.write(chunk + "\n")
