"""Family f placeholder (filled next)."""
NAMES = []


def play(s, work):
    pass
