# Try to reach the network: the grader's loopback (a server the test listens on), and the outside.
import socket


def _escaped():
    for host, port in (("127.0.0.1", $port), ("localhost", $port), ("1.1.1.1", 53),
                       ("8.8.8.8", 53), ("10.0.0.1", 80)):
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except Exception:
            pass
    try:
        socket.getaddrinfo("pypi.org", 443)
        return True
    except Exception:
        return False
# === per cell ===
if _escaped():
    exec($ref, globals())
