hog = []
while True:  # eat memory until something stops it
    hog.append(bytearray(64 * 2**20))
