"""Fakes of PyObjC's PyObjCTools (AppHelper, MachSignals) for tests/unit/test_macos_threads.py."""
