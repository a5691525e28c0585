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


def test_a_needle_across_a_chunk_boundary_is_found_once(table):
    store = table["raw_store"].iloc[0]
    data = "".join(TEXTS).encode()
    for chunk in (7, 64, 1 << 20):
        found = store.find(b"SEC_E_WRONG_PRINCIPAL", chunk=chunk).tolist()
        assert found == [i for i in range(len(data)) if data.startswith(b"SEC_E_WRONG_PRINCIPAL", i)]
    assert isinstance(store.find(b"nowhere"), np.ndarray) and len(store.find(b"nowhere")) == 0
