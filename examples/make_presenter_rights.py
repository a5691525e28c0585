"""Build examples/presenter-rights.zip: a case bundle where sharing into a Skype meeting is refused.

The story: a CMS space is dual-homed into a Skype for Business meeting (organiser bob@skype.lab).
CMS joins the meeting's audio/video MCU as a participant, then a CMS user starts to present and
CMS sends the meeting's application-sharing MCU (ASMCU) an INVITE with `m=applicationsharing`.
The ASMCU answers `403 Forbidden` with
`ms-diagnostics-public: 21002;reason="Attendees cannot share in this conference";component="ASMCU"`:
the CMS gateway participant is only an attendee in that meeting.

The bundle is what a customer uploads: `presenter-rights.zip` holding the CMS `logbundle.tar.gz`
(member `syslog`, SIP tracing on, BSD stamps without year, UTC). Lines follow the CMS syslog
grammar byte for byte; every SIP message's `size` is the real length of its text. The output is
reproducible: fixed times, sorted members.

Run: python examples/make_presenter_rights.py [OUT.zip]
"""
from __future__ import annotations

import datetime as dt
import io
import sys
import tarfile
import zipfile
from pathlib import Path

CMS = "10.48.54.230"
EXPC = "10.48.54.228"
HOST = "cms01"
T0 = dt.datetime(2026, 11, 19, 9, 14, 2, 118000)
ARCHIVE_TIME = dt.datetime(2026, 11, 19, 9, 31, 40)


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, t: dt.datetime, text: str, facility: str = "user.info") -> None:
        stamp = t.strftime("%b %e %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        self.lines.append(f"{stamp} {facility} {HOST} host:server:  INFO : {text}")

    def sip(self, t: dt.datetime, conn: int, direction: str, remote: str, message: str,
            local: str = f"{CMS}:5061", transport: str = "TLS") -> None:
        wire = message.replace("\n", "\r\n")
        size = len(wire.encode())
        if direction == "in":
            self.line(t, f"SIP trace: connection {conn}: incoming SIP {transport} data from {remote}, size {size}:")
        else:
            self.line(t, f"SIP trace: connection {conn}: outgoing SIP {transport} data to {remote} from {local}, size {size}:")
        for text in message.split("\n"):
            self.line(t, f"SIP trace: {text}")


def ms(t: dt.datetime, n: float) -> dt.datetime:
    return t + dt.timedelta(milliseconds=n)


def options(cseq: int) -> str:
    return (
        f"OPTIONS sip:{CMS}:5061;transport=tls SIP/2.0\n"
        f"Via: SIP/2.0/TLS {EXPC}:5061;branch=z9hG4bK{cseq:08x}a1c2;rport\n"
        f"Call-ID: 6c1f0e2d9a8b{cseq:04d}@{EXPC}\n"
        f"CSeq: {cseq} OPTIONS\n"
        f"From: <sip:{EXPC}:5061>;tag=7d1a{cseq:04d}\n"
        f"To: <sip:{CMS}:5061;transport=tls>\n"
        "Max-Forwards: 0\nContent-Length: 0\n"
    )


def options_ok(cseq: int) -> str:
    return (
        "SIP/2.0 200 OK\n"
        f"Via: SIP/2.0/TLS {EXPC}:5061;branch=z9hG4bK{cseq:08x}a1c2;rport\n"
        f"Call-ID: 6c1f0e2d9a8b{cseq:04d}@{EXPC}\n"
        f"CSeq: {cseq} OPTIONS\n"
        f"From: <sip:{EXPC}:5061>;tag=7d1a{cseq:04d}\n"
        f"To: <sip:{CMS}:5061;transport=tls>;tag=c0ffee{cseq:04d}\n"
        "Server: Acano CallBridge\n"
        "Allow: INVITE,ACK,CANCEL,OPTIONS,INFO,BYE,UPDATE,REFER,SUBSCRIBE,NOTIFY,MESSAGE\n"
        "Content-Length: 0\n"
    )


AV_CALL = "1c4e9a0b77d24f0e8e8f2b9d6a1e5c31"
AS_CALL = "5f0c2a7e91b34d8a9c6e0f1b2d3a4c5e"
CONF = "sip:bob@skype.lab;gruu;opaque=app:conf:{}:id:F0NXR3KP"
FROM = "\"Weekly review\"<sip:weekly.review@meet.corp.lab>"


def av_invite() -> str:
    sdp = (
        "v=0\no=- 4711 0 IN IP4 10.48.54.229\ns=-\nc=IN IP4 10.48.54.229\nb=CT:2000\nt=0 0\n"
        "m=audio 25210 RTP/SAVP 0 8 101\n"
        "a=ice-ufrag:cmsA\na=ice-pwd:cmsAudioIcePassword01234\n"
        f"a=candidate:1 1 UDP 2130706431 {CMS} 40110 typ host \n"
        "a=candidate:2 1 UDP 16777215 10.48.54.229 25210 typ relay raddr 10.48.54.230 rport 40110 \n"
        "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n"
        "m=video 25212 RTP/SAVP 122\n"
        "a=ice-ufrag:cmsV\na=ice-pwd:cmsVideoIcePassword01234\n"
        f"a=candidate:1 1 UDP 2130706431 {CMS} 40112 typ host \n"
        "a=candidate:2 1 UDP 16777215 10.48.54.229 25212 typ relay raddr 10.48.54.230 rport 40112 \n"
        "a=rtpmap:122 X-H264UC/90000\n"
    )
    return (
        f"INVITE {CONF.format('audio-video')} SIP/2.0\n"
        f"Via: SIP/2.0/TLS {CMS}:5061;branch=z9hG4bK8e2b6c1d0a4f\n"
        "Max-Forwards: 70\n"
        f"From: {FROM};tag=a91d0c7e5b3f2816\n"
        f"To: <{CONF.format('audio-video')}>\n"
        f"Call-ID: {AV_CALL}\n"
        "CSeq: 1 INVITE\n"
        f"Contact: <sip:weekly.review@meet.corp.lab;gruu;opaque=srvr:acano:{CMS}>\n"
        "User-Agent: Acano CallBridge\n"
        "Supported: timer,ms-dialog-route-set-update\n"
        "Ms-Conversation-ID: AdlXq4mC8Wb0v0hZQk2l3Ct9pA1yXg==\n"
        "Content-Type: application/sdp\n"
        f"Content-Length: {len(sdp.replace(chr(10), chr(13) + chr(10)).encode())}\n\n" + sdp
    ).rstrip("\n")


def response(status: str, call_id: str, cseq: str, to_tag: str, conf: str, extra: str = "",
             body: str = "") -> str:
    head = (
        f"SIP/2.0 {status}\n"
        f"Via: SIP/2.0/TLS {CMS}:5061;branch=z9hG4bK8e2b6c1d0a4f\n"
        f"From: {FROM};tag=a91d0c7e5b3f2816\n"
        f"To: <{conf}>;tag={to_tag}\n"
        f"Call-ID: {call_id}\n"
        f"CSeq: {cseq}\n"
        "Server: RTC/7.0\n" + extra
    )
    if body:
        head += f"Content-Type: application/sdp\nContent-Length: {len(body.replace(chr(10), chr(13) + chr(10)).encode())}\n\n" + body
        return head.rstrip("\n")
    return head + "Content-Length: 0\n"


def as_invite() -> str:
    sdp = (
        "v=0\no=- 4712 0 IN IP4 10.48.54.229\ns=-\nc=IN IP4 10.48.54.229\nb=CT:2000\nt=0 0\n"
        "m=applicationsharing 24318 TCP/RTP/AVP 127\n"
        "a=ice-ufrag:cmsU\na=ice-pwd:cmsIcePassword0123456789\n"
        f"a=candidate:1 1 TCP-PASS 2120613887 {CMS} 33120 typ host \n"
        "a=candidate:2 1 TCP-PASS 6556159 10.48.54.229 24318 typ relay raddr 10.48.54.230 rport 41877 \n"
        "a=setup:actpass\na=connection:new\na=rtpmap:127 x-data/90000\n"
        "a=x-applicationsharing-session-id:1\na=x-applicationsharing-role:sharer\n"
        "a=x-applicationsharing-media-type:rdp\na=x-applicationsharing-contentflow:sendonly\n"
    )
    conf = CONF.format("applicationsharing")
    return (
        f"INVITE {conf} SIP/2.0\n"
        f"Via: SIP/2.0/TLS {CMS}:5061;branch=z9hG4bK3c7d9e1f2a6b\n"
        "Max-Forwards: 70\n"
        f"From: {FROM};tag=b27e1d9c4a6f0835\n"
        f"To: <{conf}>\n"
        f"Call-ID: {AS_CALL}\n"
        "CSeq: 1 INVITE\n"
        f"Contact: <sip:weekly.review@meet.corp.lab;gruu;opaque=srvr:acano:{CMS}>\n"
        "User-Agent: Acano CallBridge\n"
        "Ms-Conversation-ID: AdlXq4mC8Wb0v0hZQk2l3Ct9pA1yXg==\n"
        "Content-Type: application/sdp\n"
        f"Content-Length: {len(sdp.replace(chr(10), chr(13) + chr(10)).encode())}\n\n" + sdp
    ).rstrip("\n")


def build_syslog() -> str:
    log = Log()
    t = T0
    log.line(t, f"SIP trace: connection 17: is outgoing secure connection to {EXPC}:5061 from {CMS}:40007")
    log.line(t, f"SIP trace: connection 18: is incoming secure connection from {EXPC}:25061 to {CMS}:5061")
    cseq = 5120
    for i in range(3):  # Expressway-C keep-alives, every 30 s
        log.sip(ms(t, 30000 * i), 18, "in", f"{EXPC}:25061", options(cseq + i))
        log.sip(ms(t, 30000 * i + 1), 18, "out", f"{EXPC}:25061", options_ok(cseq + i))
    t = ms(T0, 95000)
    log.line(t, "conference 0d8a4c1e-5b7f-4e2a-9c3d-6f1e2a7b8c9d: lock status changed to unlocked")
    log.line(ms(t, 2), "call 12: outgoing SIP call to \"" + CONF.format("audio-video") + "\" from space \"Weekly review\"")
    log.sip(ms(t, 5), 17, "out", f"{EXPC}:5061", av_invite(), local=f"{CMS}:40007")
    log.sip(ms(t, 61), 17, "in", f"{EXPC}:5061",
            response("100 Trying", AV_CALL, "1 INVITE", "", CONF.format("audio-video")).replace(";tag=\n", "\n"))
    answer_sdp = (
        "v=0\no=- 0 1 IN IP4 192.168.1.252\ns=session\nc=IN IP4 192.168.1.252\nb=CT:99980\nt=0 0\n"
        "m=audio 53410 RTP/SAVP 0 8 101\na=ice-ufrag:mcuA\na=ice-pwd:mcuAudioIcePassword98765\n"
        "a=candidate:1 1 UDP 16648703 192.168.1.252 53410 typ relay raddr 10.1.1.31 rport 49152 \n"
        "m=video 53412 RTP/SAVP 122\na=ice-ufrag:mcuV\na=ice-pwd:mcuVideoIcePassword98765\n"
        "a=candidate:1 1 UDP 16648703 192.168.1.252 53412 typ relay raddr 10.1.1.31 rport 49154 \n"
    )
    log.sip(ms(t, 842), 17, "in", f"{EXPC}:5061",
            response("200 OK", AV_CALL, "1 INVITE", "8c2f41d7e0", CONF.format("audio-video"),
                     extra="Contact: <sip:sfbfe01.skype.lab:5064;transport=tls>\n", body=answer_sdp))
    log.sip(ms(t, 845), 17, "out", f"{EXPC}:5061", (
        f"ACK sip:sfbfe01.skype.lab:5064;transport=tls SIP/2.0\n"
        f"Via: SIP/2.0/TLS {CMS}:5061;branch=z9hG4bK0d4e7a2c9b1f\nMax-Forwards: 70\n"
        f"From: {FROM};tag=a91d0c7e5b3f2816\nTo: <{CONF.format('audio-video')}>;tag=8c2f41d7e0\n"
        f"Call-ID: {AV_CALL}\nCSeq: 1 ACK\nContent-Length: 0\n"), local=f"{CMS}:40007")
    log.line(ms(t, 850), "call 12: connected to Skype for Business meeting (audio, video)")
    log.line(ms(t, 851), "participant \"bob@skype.lab\" joined space 3f6e2d1c-0b9a-4c8d-8e7f-1a2b3c4d5e6f (Weekly review)",
             facility="local0.info")
    # A CMS user starts to present: CMS asks the meeting's ASMCU for an application-sharing leg.
    t = ms(T0, 251000)
    log.line(t, "call 13: outgoing SIP call to \"" + CONF.format("applicationsharing") + "\" for presentation in space \"Weekly review\"")
    log.sip(ms(t, 4), 17, "out", f"{EXPC}:5061", as_invite(), local=f"{CMS}:40007")
    rejected = response(
        "403 Forbidden", AS_CALL, "1 INVITE", "4d9e2b7a1c", CONF.format("applicationsharing"),
        extra='ms-diagnostics-public: 21002;reason="Attendees cannot share in this conference";component="ASMCU"\n',
    ).replace("branch=z9hG4bK8e2b6c1d0a4f", "branch=z9hG4bK3c7d9e1f2a6b").replace(
        "tag=a91d0c7e5b3f2816", "tag=b27e1d9c4a6f0835")
    log.sip(ms(t, 233), 17, "in", f"{EXPC}:5061", rejected)
    log.sip(ms(t, 236), 17, "out", f"{EXPC}:5061", (
        f"ACK {CONF.format('applicationsharing')} SIP/2.0\n"
        f"Via: SIP/2.0/TLS {CMS}:5061;branch=z9hG4bK3c7d9e1f2a6b\nMax-Forwards: 70\n"
        f"From: {FROM};tag=b27e1d9c4a6f0835\nTo: <{CONF.format('applicationsharing')}>;tag=4d9e2b7a1c\n"
        f"Call-ID: {AS_CALL}\nCSeq: 1 ACK\nContent-Length: 0\n"), local=f"{CMS}:40007")
    log.line(ms(t, 240), "call 13: ending; remote SIP teardown - not connected (403 Forbidden)")
    log.line(ms(t, 241), "call 12: presentation to Skype for Business meeting failed")
    for i in range(2):
        log.sip(ms(t, 9000 + 30000 * i), 18, "in", f"{EXPC}:25061", options(cseq + 3 + i))
        log.sip(ms(t, 9001 + 30000 * i), 18, "out", f"{EXPC}:25061", options_ok(cseq + 3 + i))
    return "\n".join(log.lines) + "\n"


def build(out: Path) -> Path:
    syslog = build_syslog().encode()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tf:
        info = tarfile.TarInfo("syslog")
        info.size = len(syslog)
        info.mtime = int(ARCHIVE_TIME.replace(tzinfo=dt.timezone.utc).timestamp())
        tf.addfile(info, io.BytesIO(syslog))
    # gzip writes the time into its header: make it fixed so the bundle is reproducible
    raw = bytearray(tar_buf.getvalue())
    raw[4:8] = int(ARCHIVE_TIME.replace(tzinfo=dt.timezone.utc).timestamp()).to_bytes(4, "little")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zi = zipfile.ZipInfo("logbundle.tar.gz", date_time=ARCHIVE_TIME.timetuple()[:6])
        zf.writestr(zi, bytes(raw))
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("presenter-rights.zip")
    print(build(target))
