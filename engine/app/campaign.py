"""The `campaign` command: its options and its evaluation in the pipeline.

`migcheck campaign SNAPSHOT --upgrade GLOB --to RELEASE` proposes a rolling upgrade
(`waves.campaign`), checked by `plan` before it is shown, as `place` is; `--output FILE`
writes the plan file. A VSP the campaign cannot vacate fails the run (exit 1), as a guest that
fits nowhere fails `place`.
"""

from __future__ import annotations

import fnmatch

from ..core.verdicts import place_verdict
from ..core.vocabulary import BLOCKED, READY
from ..estate import view
from ..files.outputs import OutputError, write_output
from ..lang.builtins import EvalError, parse_version
from .requests import Evaluation, InternalError, Run, UsageError, must_match, unknown


def campaign_options(args) -> dict:
    """The keyword arguments of `waves.campaign.CampaignOptions` (made when OR-Tools is loaded); the globs
    in NFC, as the snapshot's names are (`estate.view.name`)."""
    keep = args.keep and view.name(args.keep)
    try:  # a release, before any work (`waves.campaign` reads it with `as_version`)
        parse_version(args.to)
    except EvalError as exc:
        raise UsageError(f"--to: {exc}; give the release the VSPs are upgraded to, e.g. `--to 6.3`") from None
    return {"upgrade": view.name(args.upgrade), "to": args.to, "keep": keep, "offline_window": args.offline_window,
            "max_stages": args.max_stages, "time_limit": args.time_limit, "return_guests": args.return_guests,
            "name": args.name, "output": args.plan_output}


def campaign_evaluation(run: Run) -> Evaluation:
    """`migcheck campaign`: propose the campaign, check it with `plan`, report both."""
    try:
        from ..waves.campaign import CampaignOptions, propose_campaign
    except ImportError as exc:  # OR-Tools is the optional extra hpvm-migcheck[place]
        raise UsageError(f"`campaign` needs OR-Tools ({exc.name or exc}): install it with "
                         "`pip install 'hpvm-migcheck[place]'`") from None
    options = CampaignOptions(**run.request.campaign)
    snapshot = run.snapshot
    if not any(fnmatch.fnmatchcase(name, options.upgrade) for name in snapshot.host_by_name):
        raise unknown(options.upgrade, list(snapshot.host_by_name), "VSP")
    must_match(options.keep, list(snapshot.guest_by_name), "guest", "--keep")
    campaign = propose_campaign(run.ruleset, snapshot, options, waivers=run.waivers)
    if campaign.check is not None and campaign.check.verdict == BLOCKED:
        # the proposal is never trusted on its own: one its own check blocks is a bug, not a plan
        raise InternalError("the proposed campaign failed its check by `plan`; please report it with the snapshot")
    detail = campaign.to_json()
    if options.output and campaign.stages:
        try:
            write_output(options.output, campaign.plan_text())
        except OutputError as exc:
            raise UsageError(str(exc)) from None
        detail["plan_file"] = options.output
    check = campaign.check
    return Evaluation(check.results if check else [], plan=check.to_json() if check else None, campaign=detail,
                      verdict=place_verdict(check.verdict if check else READY, bool(campaign.stopped)))
