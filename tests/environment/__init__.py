"""The machines and installs the course runs on: pins, platforms, wheels, Colab, browsers, lint."""
