"""PyInstaller's entry script: the same `ecr-token-tray` command pip installs."""

from tray_app.cli import main

raise SystemExit(main())
