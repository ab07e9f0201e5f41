from __future__ import annotations


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:
    """Like Glue's: every listed name is required, given as `--name value`; other arguments are ignored."""
    resolved = {}
    for name in options:
        flag = f"--{name}"
        if flag not in args:
            raise GlueArgumentError(f"the following arguments are required: {flag}")
        resolved[name] = args[args.index(flag) + 1]
    return resolved
