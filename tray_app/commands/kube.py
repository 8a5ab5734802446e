"""``ecr-token-tray kube secret HOST --context C --namespace N --name S``.

Creates the ECR pull secret in a local cluster when it does not exist (or refreshes it when
it does), with a token from the same (profile, region) group as Docker's logins, then prints
how a pod or a service account references it. Only local or listed contexts are touched.
"""

from __future__ import annotations

import argparse
import sys

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.hosts import host_of, parse_registry

EXIT_OK = 0
EXIT_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="kube_action", metavar="ACTION", required=True)
    secret = actions.add_parser(
        "secret", help="create (or refresh) an ECR pull secret in a local cluster",
        description="Create the pull secret when it does not exist, or put a fresh token in"
                    " it when it does, and print how to reference it.")
    secret.add_argument("host", metavar="HOST", help="ECR registry host")
    secret.add_argument("--context", required=True, help="kube context (a local cluster, or"
                        " one listed in the config's [kubernetes] contexts)")
    secret.add_argument("--namespace", "-n", default="default", help="namespace (default:"
                        " default)")
    secret.add_argument("--name", required=True, help="the secret's name")
    secret.add_argument("--profile", metavar="P", help="AWS profile (default: the mapping"
                        " `status` shows for this registry)")
    secret.add_argument("--no-browser", action="store_true",
                        help="pass --no-browser to `aws sso login`")


def run(args: argparse.Namespace) -> int:
    from tray_app.logs import setup_logging
    from tray_app.model import KubeSecretRef, RegistryStatus, State
    from tray_app.renew.engine import LoginOptions, renew
    from tray_app.settings import Paths, load_settings
    from tray_app.snapshot import profile_for
    from tray_app.sources.aws_config import AwsConfig, load_aws_config
    from tray_app.sources.kubeconfig import load_kubeconfig

    paths = Paths.from_env()
    setup_logging(paths.log_dir, getattr(args, "debug", False))
    registry = parse_registry(host_of(args.host))
    if registry is None:
        raise TrayAppError(f"{args.host}: not an Amazon ECR registry host",
                           "expected e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com")
    settings, problem = load_settings(paths)
    if problem:
        print(f"{APP_NAME}: {problem}", file=sys.stderr)
    context = load_kubeconfig(paths.kubeconfigs, settings.kube_contexts).get(args.context)
    if context is None:
        raise TrayAppError(f"context {args.context!r}: no kubeconfig defines it",
                           "check `kubectl config get-contexts`")
    if not context.chosen:  # a loopback server alone may be a tunnel to production
        raise TrayAppError(f"context {args.context!r} is not a local cluster; not touched",
                           f"if it is yours, list it: `contexts = [\"{args.context}\"]` under"
                           f" [kubernetes] in {paths.config_file}")
    try:
        aws = load_aws_config(paths.aws_config)
    except TrayAppError:
        aws = AwsConfig(paths.aws_config, {}, {})
    ref = KubeSecretRef(args.context, args.namespace, args.name, create_if_missing=True)
    row = RegistryStatus(registry=registry, source="kubernetes", expires_at=None,
                         seconds_left=None, state=State.UNKNOWN, detail="",
                         profile=profile_for(registry, settings, aws), kubernetes=ref)
    report = renew([row], LoginOptions(profile=args.profile, no_browser=args.no_browser),
                   progress=lambda text: print(f"... {text}", file=sys.stderr, flush=True))
    for outcome in report.outcomes:
        print(f"{outcome.result:<9} {outcome.message}")
    if not report.ok:
        return EXIT_FAILED
    print(how_to_reference(args.context, args.namespace, args.name))
    return EXIT_OK


def how_to_reference(context: str, namespace: str, name: str) -> str:
    import json

    from tray_app.platforms import quote  # the user's shell: cmd.exe quoting on Windows

    patch = json.dumps({"imagePullSecrets": [{"name": name}]})
    return "\n".join([
        "",
        f"Reference it from a pod (namespace {namespace}):",
        "  spec:",
        "    imagePullSecrets:",
        f"      - name: {name}",
        "or let every pod of the namespace's default service account use it:",
        f"  kubectl --context {quote(context)} --namespace {quote(namespace)} patch"
        f" serviceaccount default -p {quote(patch)}",
        f"{APP_NAME} keeps it fresh from now on (`status` lists it, `login` renews it).",
    ])
