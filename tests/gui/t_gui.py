# tests/gui/t_gui.py - tcp2-tray against the real tcp2d of Alice's host
# (set up by tests/gui/t_gui.sh): peers with their states, marking one
# verified, accounts and registration, the unreachable banner and the
# recovery.  Asserted through AT-SPI and through the daemon itself.
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tray_drive as T  # noqa: E402

sock = sys.argv[1]
app = T.start_app(sock)
win = T.app_window()
if not T.ok(win is not None, "tcp2-tray shows a window titled 'TCP2 Mail'"):
    app.kill()
    T.done()

# --- Peers: every state the world produced, the changed one flagged.
T.ok(T.tab(win, "Peers"), "the Peers page opens")
for name in ("Peer dave@example.org: established",
             "Peer bob@example.org: changed",
             "Peer carol@example.org: sent"):
    T.ok(T.wait_row(win, name), "peers row '%s'" % name)
bob = T.rows(win, "Peer bob@example.org")
T.ok(bob and T.button(bob[0], "Accept new key") is not None and
     T.button(bob[0], "Keep old key") is not None,
     "the changed key offers Accept new key / Keep old key")
T.ok("changed: decide in Peers" in T.state_text(win),
     "overall state says a key changed (%r)" % T.state_text(win))
T.shot("peers")
T.ok(T.wait_for(lambda: T.notified("TCP2 Mail: a key changed")),
     "a desktop notification tells that a key changed")

# Mark Dave verified after "comparing" the codes.
dave = T.rows(win, "Peer dave@example.org")
T.ok(dave and T.press(dave[0], "Mark verified"), "press Mark verified on Dave")
d = T.dialog()
T.ok(d is not None and T.press(d, "Codes match"),
     "the confirmation shows the comparison code; press Codes match")
T.ok(T.wait_row(win, "Peer dave@example.org: verified"),
     "Dave's row turns verified")


def dave_state():
    r = T.ctl("a", "peers") or {}
    return [p.get("state") for p in r.get("peers", [])
            if p.get("addr") == "dave@example.org"]


T.ok(dave_state() == ["verified"],
     "the daemon has Dave verified (%s)" % dave_state())

# --- Accounts and registration.
T.ok(T.tab(win, "Accounts"), "the Accounts page opens")
T.ok(T.wait_row(win, "Account alice@example.org"), "accounts row alice@example.org")
T.ok(T.press(win, "Register an account"), "press Register an account")
T.ok(T.wait_for(lambda: any("TCP2 registration" in l.name
                            for l in T.find_all(win, "label"))),
     "the hint tells which mail to send")
st = T.ctl("a", "status") or {}
T.ok(st.get("registration_armed") is True, "the daemon has registration armed")
T.shot("accounts")
T.ok(T.press(win, "Cancel registration"), "press Cancel registration")
T.ok(T.wait_for(lambda: (T.ctl("a", "status") or {}).get(
    "registration_armed") is False), "the daemon has registration disarmed")

# --- Held mail and viewer pages exist (held mail: tests/gui/pending/).
T.ok(T.tab(win, "Held mail"), "the Held mail page opens")
T.shot("held")
T.ok(T.tab(win, "Viewer"), "the Viewer page opens")
T.ok(T.button(win, "Open a stored mail…") is not None,
     "the viewer offers Open a stored mail…")
T.shot("viewer")

# --- The daemon goes away and comes back.
T.tab(win, "Peers")
T.ok(not T.banner_showing(win), "no unreachable banner while tcp2d runs")
T.hook("stop", "a")
T.ok(T.wait_for(lambda: T.banner_showing(win)),
     "tcp2d stopped: the unreachable banner shows")
T.ok("unreachable" in T.state_text(win), "overall state: unreachable")
T.ok(not T.rows(win, "Peer "), "no stale peer rows while unreachable")
T.shot("unreachable")
T.ok(T.wait_for(lambda: T.notified("TCP2 Mail: daemon unreachable")),
     "a desktop notification tells that the daemon is unreachable")
T.ok(T.hook("start", "a").returncode == 0, "tcp2d restarts")
T.ok(T.wait_for(lambda: not T.banner_showing(win), 20),
     "the app reconnects by itself: banner gone")
T.ok(T.wait_row(win, "Peer dave@example.org: verified"),
     "peer rows are back after the reconnect")
T.ok(T.wait_row(win, "Peer bob@example.org: changed"),
     "  ...with the changed key still flagged")

T.ok(app.poll() is None, "tcp2-tray still runs")
app.terminate()
try:
    app.wait(10)
except Exception:
    app.kill()
T.ok(not [f for f in os.listdir(T.SHOTS) if f.startswith("tray-asan")],
     "no sanitizer report from tcp2-tray")
T.done()
