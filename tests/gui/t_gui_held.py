# tests/gui/pending/t_gui_held.py - the Held mail page of tcp2-tray, driven
# through AT-SPI (see t_gui_held.sh): rows, preview, Receive, Discard with
# confirmation, Receive without attachments; the daemon's state and the
# mail delivered to Alice's client.
import glob
import os
import sys

# tray_drive.py lives in tests/gui/ (this file may be in tests/gui/pending/)
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
sys.path.insert(0, os.path.join(_here, ".."))
import tray_drive as T  # noqa: E402

sock, tmp = sys.argv[1], sys.argv[2]
app = T.start_app(sock)
win = T.app_window()
if not T.ok(win is not None, "tcp2-tray shows a window titled 'TCP2 Mail'"):
    app.kill()
    T.done()

T.ok(T.tab(win, "Held mail"), "the Held mail page opens")
names = {"html": "Held mail from bob@example.org: Held HTML",
         "exe": "Held mail from bob@example.org: Held invoice",
         "strip": "Held mail from bob@example.org: Held tool"}
for k, n in names.items():
    T.ok(T.wait_row(win, n), "held row '%s'" % n)


def row(k):
    r = [x for x in T.rows(win, names[k]) if x.name == names[k]]
    return r[0] if r else None


exe = row("exe")
desc = exe.description if exe is not None else ""
T.ok("invoice.exe" in desc, "the row lists the attachment by name (%r)" % desc)
T.ok("held because:" in desc, "the row says why it is held")
T.ok("verification" in desc, "the row shows the sender's verification")
T.ok("mail held for your decision" in T.state_text(win) or
     "mails held for your decision" in T.state_text(win),
     "overall state: mail held (%r)" % T.state_text(win))

# Preview: select the HTML mail; its text shows, as text.
html = row("html")
html.select() if hasattr(html, "select") else html.doActionNamed("activate")
pv = [t for t in T.find_all(win, "text") if t.name == "Held mail preview"]


def preview_has(s):
    try:
        return pv and s in pv[0].text
    except Exception:
        return False


T.ok(T.wait_for(lambda: preview_has("mkhtml7731")),
     "the preview shows the HTML mail's text")
T.ok(not preview_has("<img"), "  ...as text, tags removed, nothing rendered")
T.shot("held")

# Receive the HTML mail.
T.ok(T.press(row("html"), "Receive"), "press Receive on the HTML mail")
# Discard the invoice, confirmed.
T.ok(T.press(row("exe"), "Discard"), "press Discard on the invoice mail")
d = T.dialog()
T.ok(d is not None and T.press(d, "Discard"), "confirm the discard")
# The tool mail without its attachment.
T.ok(T.press(row("strip"), "Receive without attachments"),
     "press Receive without attachments on the tool mail")
T.ok(T.wait_for(lambda: row("exe") is None), "the discarded row goes")


def held():
    r = T.ctl("a", "held") or {}
    return {m.get("subject"): m.get("state") for m in r.get("held", [])}


T.ok(T.wait_for(lambda: "Held invoice" not in held()),
     "the daemon no longer holds the discarded mail (%s)" % held())
T.ok(held().get("Held HTML") in ("releasing", "released", None),
     "the received mail is released (%s)" % held().get("Held HTML"))
T.ok(T.wait_for(lambda: int(T.hook("count", "alice").stdout or 0) >= 2, 30),
     "both received mails are back in Alice's mailbox")
T.hook("fetch", "a", "alice", os.path.join(tmp, "got"))
got = b"".join(open(f, "rb").read()
               for f in glob.glob(os.path.join(tmp, "got", "*.eml")))
T.ok(b"mkhtml7731" in got, "Alice's client gets the received HTML mail")
T.ok(b"mkstrip7733" in got, "Alice's client gets the tool mail's text")
T.ok(b"attachment-mkstrip7733" not in got and
     b"YXR0YWNobWVudC1ta3N0cmlwNzczMy" not in got,
     "  ...without its attachment")
T.ok(b"mkexe7732" not in got, "the discarded mail never reaches the client")
T.ok(T.wait_for(lambda: not T.rows(win, "Held mail from"), 20),
     "the held list empties once the client fetched the released mail")
T.shot("held-after")

# Viewer: a stored mail through the file chooser -> decrypt (fds).
T.ok(T.tab(win, "Viewer"), "the Viewer page opens")
T.ok(T.open_eml(win, os.path.join(tmp, "exe.eml")),
     "open a stored .eml through the file chooser")
T.ok(T.wait_for(lambda: "Body mkexe7732" in (T.text_of(win, "Decrypted mail")
                                             or "")),
     "the viewer shows the mail's text")
T.ok(any(l.name.startswith("Attachments: invoice.exe")
         for l in T.find_all(win, "label")),
     "the viewer lists the attachment")
T.ok(any(l.name.startswith("Verification: ")
         for l in T.find_all(win, "label")),
     "the viewer shows the sender's verification")
T.shot("viewer")
app.terminate()
T.done()
