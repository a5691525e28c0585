"""rawtext.containing: a `contains` test on the records' text, searched in the stores' bytes."""
import numpy as np
import pandas as pd
import pytest

from logcorr.events import rawtext

TEXTS = ["INVITE sip:a@b SIP/2.0\r\nWarning: 399 edge \"SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH\"\r\n",
         "", "BYE sip:ü@b SIP/2.0\r\nReason: Q.850;text=\"Grüße SEC_E_WRONG_PRINCIPAL\"\r\n",
         "SIP/2.0 200 OK\r\n\r\nv=0\r\n", "SIPPROXY_E_ROUTING_MSG_CERT_MISMATC",  # one letter short
         "H" + "x" * 5000 + "SEC_E_WRONG_PRINCIPAL"]


@pytest.fixture()
def table():
    folder = rawtext.Folder()
    frame = pd.DataFrame({"event": ["e"] * len(TEXTS), "raw": TEXTS})
    yield rawtext.spill(frame, folder.store("t"))


NEEDLES = [["SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"], ["SEC_E_WRONG_PRINCIPAL", "Grüße"], ["ü@b"],
           ["CERT_MISMATCH\r\nBYE"], ["SIP"]]  # the last but one spans two records: no record holds it


@pytest.mark.parametrize("needles", NEEDLES)
@pytest.mark.parametrize("rows", [list(range(len(TEXTS))), [5, 2, 0], [3]])
def test_the_same_as_testing_each_text(table, needles, rows):
    expected = [any(n in TEXTS[i] for n in needles) for i in rows]
    assert rawtext.containing(table, rows, needles).tolist() == expected


def test_needles_across_a_chunk_boundary_are_found_once_in_one_pass(table):
    store = table["raw_store"].iloc[0]
    data = "".join(TEXTS).encode()
    needles = [b"SEC_E_WRONG_PRINCIPAL", b"SIP", b"x" * 7, "ü".encode()]  # lengths 21, 3, 7, 2
    for chunk in (7, 64, 1 << 20):
        for needle, found in zip(needles, store.find(needles, chunk=chunk)):
            assert found.tolist() == [i for i in range(len(data)) if data.startswith(needle, i)], (chunk, needle)
    assert [len(f) for f in store.find([b"nowhere"])] == [0]
