# tests/gui/tray_drive.py - drive tcp2-tray through AT-SPI with Debian's
# python3-dogtail (run by /usr/bin/python3 inside tests/gui/session.sh).
# Shared by the GUI test scripts: TAP-like "ok - " / "not ok - " output,
# finding rows and buttons by their accessible names, screenshots, and the
# e2e world through tests/gui/hook.sh.
import json
import os
import subprocess
import sys
import time

from dogtail.config import config

config.searchShowingOnly = False
config.searchCutoffCount = 5
config.searchBackoffDuration = 0.2
config.defaultDelay = 0.1
config.actionDelay = 0.2
config.logDebugToStdOut = False
config.logDebugToFile = False

from dogtail import tree  # noqa: E402 (after the config)
from dogtail.predicate import GenericPredicate  # noqa: E402

TOP = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOOK = os.path.join(TOP, "tests", "gui", "hook.sh")
SHOTS = os.environ.get("GUI_SHOTS", "/tmp")
failed = 0


def ok(cond, what):
    global failed
    if cond:
        print("ok - " + what, flush=True)
    else:
        failed = 1
        print("not ok - " + what, flush=True)
    return cond


def hook(*args, check=True):
    r = subprocess.run(["sh", HOOK] + list(args), cwd=TOP,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    if check and r.returncode != 0:
        print("# hook %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r


def ctl(host, *args):
    """The daemon's JSON answer (dict), or None."""
    r = hook("ctl", host, *args, check=False)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def wait_for(fn, seconds=15.0, step=0.2):
    """fn() until it is true or seconds pass; its last value."""
    end = time.monotonic() + seconds
    v = fn()
    while not v and time.monotonic() < end:
        time.sleep(step)
        v = fn()
    return v


def shot(name):
    """The main window (the whole screen if it cannot be found)."""
    path = os.path.join(SHOTS, name + ".png")
    r = subprocess.run(["import", "-window", "TCP2 Mail", path],
                       stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        subprocess.run(["import", "-window", "root", path],
                       stderr=subprocess.DEVNULL)
    print("# screenshot " + path)


def start_app(sock):
    env = dict(os.environ)
    # GTK and its libraries leave much allocated at exit: leaks are not
    # what this test looks for; memory errors still abort.
    env["ASAN_OPTIONS"] = "detect_leaks=0:log_path=" + \
        os.path.join(SHOTS, "tray-asan")
    log = open(os.path.join(SHOTS, "tray.log"), "w")
    p = subprocess.Popen([os.path.join(os.environ["TCP2_BIN"], "tcp2-tray"),
                          "--control", sock], env=env, stdout=log, stderr=log)
    return p


def app_window():
    def find():
        try:
            a = tree.root.application("tcp2-tray")
            return a.child(name="TCP2 Mail", roleName="frame", retry=False)
        except Exception:
            return None
    return wait_for(find, 30)


def find_all(node, role, prefix=""):
    try:
        return [n for n in node.findChildren(GenericPredicate(roleName=role))
                if n.name.startswith(prefix)]
    except Exception:
        return []


def rows(win, prefix):
    return [r for r in find_all(win, "list item", prefix) if r.showing]


def row_names(win, prefix):
    return sorted(r.name for r in rows(win, prefix))


def wait_row(win, name, seconds=15):
    return wait_for(lambda: name in row_names(win, name.split(" ")[0]),
                    seconds)


def button(node, name):
    for b in find_all(node, "push button"):
        if b.name == name:
            return b
    return None


def press(node, name):
    b = button(node, name)
    if b is None:
        return False
    b.doActionNamed("click")
    return True


def tab(win, title):
    for b in find_all(win, "radio button"):
        if b.name == title:
            b.doActionNamed("click")
            time.sleep(0.5)
            return True
    return False


def dialog(title_part=""):
    """The app's newest modal dialog (role alert or dialog)."""
    def find():
        try:
            a = tree.root.application("tcp2-tray")
        except Exception:
            return None
        for role in ("alert", "dialog", "file chooser"):
            for d in a.findChildren(GenericPredicate(roleName=role),
                                    recursive=False):
                if d.showing and title_part in d.name:
                    return d
        return None
    return wait_for(find, 10)


def banner_showing(win):
    for b in find_all(win, "info bar"):
        if b.name == "Daemon unreachable":
            return b.showing
    return False


def state_text(win):
    for l in find_all(win, "label"):
        try:
            if "overall state" in (l.description or ""):
                return l.name
        except Exception:
            pass
    return ""


def text_of(node, name):
    """The text of the text view called name, or None."""
    for t in find_all(node, "text"):
        if t.name == name:
            try:
                return t.text
            except Exception:
                return None
    return None


def open_eml(win, path):
    """Viewer page: Open a stored mail…, put path in the chooser, Open."""
    from dogtail import rawinput
    if not press(win, "Open a stored mail…"):
        return False
    d = dialog("Open a stored mail")
    if d is None:
        return False
    time.sleep(0.5)
    rawinput.keyCombo("<Control>l")  # the chooser's location entry
    time.sleep(0.5)
    # Set the text through AT-SPI: typing races with autocompletion.
    entries = [e for e in find_all(d, "text") if e.showing]
    if not entries:
        return False
    entries[0].text = path
    time.sleep(0.3)
    return press(d, "Open")


def notified(summary):
    """Did dunst (tests/gui/session.sh) show a notification with summary?"""
    try:
        return summary in open(os.environ["GUI_NOTIFY_LOG"]).read()
    except (KeyError, OSError):
        return False


def done():
    sys.exit(failed)
