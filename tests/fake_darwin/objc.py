"""A fake of PyObjC's objc module: only the decorator pystray's darwin backend uses."""


def namedSelector(name, signature=None):
    def decorate(function):
        return function
    return decorate
