"""A fake of PyObjCTools.MachSignals: remembers handlers, installs none."""

_handlers: dict = {}


def signal(number, handler):
    previous = _handlers.get(number)
    _handlers[number] = handler
    return previous


def getsignal(number):
    return _handlers.get(number)
