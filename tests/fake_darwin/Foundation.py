"""A fake of PyObjC's Foundation, as much as pystray's darwin backend uses (records calls)."""

from __future__ import annotations

from fake_cocoa import record


class NSObject:
    @classmethod
    def alloc(cls):
        record(f"{cls.__name__}.alloc")
        return cls()

    def init(self):
        return self


class NSData:
    def __init__(self, data: bytes) -> None:
        record("NSData")
        self.data = data


class NSAttributedString(NSObject):
    def initWithString_attributes_(self, text, attributes):
        record("NSAttributedString.initWithString_attributes_")
        return self


class NSDictionary(NSObject):
    def initWithObjectsAndKeys_(self, *pairs):
        return self
