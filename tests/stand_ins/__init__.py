"""Local stand-ins for AWS endpoints and an ECR registry, reached the way users' tools reach
the real ones (``AWS_ENDPOINT_URL_*`` for boto3, ``HTTPS_PROXY`` + a test CA for docker).

Each module offers a context manager; tests use them through fixtures.
"""
