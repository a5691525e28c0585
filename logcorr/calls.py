"""events -> calls: the SIP dialogs of the bundle, one entry per Call-ID that carried an INVITE."""
from __future__ import annotations

import pandas as pd


def sip_calls(events: pd.DataFrame) -> list[dict]:
    """Each INVITE dialog: its Call-ID, media, start, and how the INVITE was answered."""
    sip = events[(events["proto"] == "sip") & (events["call_id"] != "")]
    calls = []
    for call_id, g in sip.groupby("call_id", sort=False):
        invites = g[g["event"] == "INVITE"]
        if invites.empty:
            continue
        media = next((m for m in invites["sdp_media"] if m), "")
        finals = g[(g["method"] == "INVITE") & (g["status"].fillna(0) >= 200)]
        answer = "no final answer to the INVITE"
        if not finals.empty:
            first = finals.iloc[0]
            answer = f"answered {first['status']} {first['reason']}".strip()
        ended = "ended by BYE" if (g["event"] == "BYE").any() else "no BYE"
        sources = ",".join(sorted(set(g["source"])))
        calls.append({
            "call_id": call_id,
            "media": media,
            "start": g["ts"].min(),
            "stage": "",
            "steps": [],
            "summary": f"{len(invites)} INVITE(s), {answer}, {ended} (seen in {sources})",
        })
    return sorted(calls, key=lambda c: (c["start"] is pd.NaT, c["start"]))
