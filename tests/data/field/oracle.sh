#!/bin/sh
# tshark's reading of every capture here, stored beside it as NAME.tshark.csv (tests read these;
# tshark is not needed to run them). Made with Debian's tshark 4.0.17:
#   sh tests/data/field/oracle.sh
# `-o stun.stunversion:Auto` lets tshark decode MS-TURN; repeated fields (outer and inner headers
# of a tunnel, several attributes) are joined with `|` in the order tshark shows them.
set -eu
cd "$(dirname "$0")"
for pcap in *.pcap; do
  name="${pcap%.pcap}"
  tshark -r "$pcap" -o stun.stunversion:Auto -T fields -E header=y -E separator=, -E quote=d \
    -E occurrence=a -E aggregator='|' \
    -e frame.number -e _ws.col.Protocol -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
    -e udp.srcport -e udp.dstport -e tcp.srcport -e tcp.dstport \
    -e stun.type -e stun.id -e stun.att.ipv4 -e stun.att.port -e stun.att.realm -e stun.att.nonce \
    -e stun.att.ms.version -e stun.port.bandwidth -e stun.att.ms.service_quality \
    -e stun.att.ms.sequence_number -e classicstun.type -e classicstun.id -e classicstun.att.ipv4 \
    -e classicstun.att.port -e classicstun.att.bandwidth -e sip.Method -e sip.Call-ID \
    -e sip.Status-Code -e tls.handshake.type -e _ws.expert.message \
    > "$name.tshark.csv" 2>/dev/null
done
