"""The re-login engine: SSO session -> ECR token -> docker/podman login -> verify.

Only this package talks to AWS, and it imports boto3 inside functions, never at module
level, so importing it stays cheap.
"""
