# Shadows the standard library's uuid, which a runtime template imports
# ahead: the function's own must win, as in a fresh start.
MARK = "the function's own uuid module"
