import ctypes

ctypes.string_at(0)  # segmentation fault: the kernel dies here
