"""ecr-token-tray: know when your Amazon ECR logins expire, and renew them in one step."""

__version__ = "0.1.0"
APP_NAME = "ecr-token-tray"
