while True:  # an infinite loop
    pass
