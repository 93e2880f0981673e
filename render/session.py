"""Editing sessions: a directory holding every turn's Plan and image, and a journal.

Layout of a session directory::

    journal.jsonl          one JSON event a line: turn, undo, redo, reference
    turns/0001.plan.json   the Plan of turn 1 (also embedded in the image's metadata)
    turns/0001.png         the encoded image of turn 1 (png | jpg | webp)
    refs/01.png            reference images given during the session

Crash safety: a turn's files are written first, each atomically (temp file + os.replace);
only then is its journal line appended and fsynced. The journal is the only record of what
exists, so a crash at any point leaves either the whole turn or none of it (files without a
journal line are ignored and overwritten by the next turn); a torn last journal line is
dropped on the next write. Replaying the journal rebuilds the exact state (``Session.open``).

Undo and redo move a head pointer along the turns; a new turn after an undo starts a new
branch (the undone turns stay on disk and in ``history``, but are no longer redoable).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from planner.schema import Plan
from render.base import RenderError

JOURNAL = "journal.jsonl"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}


class SessionError(RenderError):
    """A session that does not exist, is damaged, or cannot do what was asked."""


@dataclass(frozen=True)
class Turn:
    """One saved step of a session.

    n: turn number (1, 2, ...). parent: the turn it was made from (None for a first turn).
    kind: ``new`` (from a prompt), ``import`` (an image brought in), ``edit``.
    """

    n: int
    parent: int | None
    kind: str
    instruction: str
    plan_file: str
    image_file: str
    image_sha256: str
    plan_sha256: str
    renderer: str
    seed: int
    summary: str = ""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def session_dir(name: str | None = None, path: str | os.PathLike | None = None) -> Path:
    """Where a session lives: ``path`` as given, else ``$LIMNER_HOME/sessions/NAME``.

    Raises:
        SessionError: neither given, or a name with characters outside ``A-Za-z0-9._-``.
    """
    if path is not None:
        return Path(path)
    if not name:
        raise SessionError("a session needs a name (--session NAME) or a directory "
                           "(--session-dir PATH)")
    if not NAME_RE.match(name):
        raise SessionError(f"session name {name!r} must be 1-64 characters from A-Z a-z 0-9 . _ - "
                           "and start with a letter or digit")
    from model.config import limner_home

    return limner_home() / "sessions" / name


class Session:
    """A session directory, replayed from its journal. Use ``Session.open``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.turns: dict[int, Turn] = {}
        self.head: int | None = None
        self.redo_stack: list[int] = []
        self.references: list[str] = []   # file names under refs/, in index order
        self._good_bytes = 0              # journal length up to the last whole line

    # --- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = False) -> "Session":
        """Open (and replay) a session directory.

        Args:
            create: make the directory when it does not exist.
        Raises:
            SessionError: no such session (and ``create`` is false), or a damaged journal.
        """
        p = Path(path)
        if not (p / JOURNAL).exists():
            if not create:
                raise SessionError(f"no session at {p}: start one with "
                                   "`limner edit --session NAME --new \"prompt\"` "
                                   "or `limner edit --session NAME IMAGE \"instruction\"`")
            (p / "turns").mkdir(parents=True, exist_ok=True)
            (p / "refs").mkdir(exist_ok=True)
            (p / JOURNAL).touch()
        s = cls(p)
        s._replay()
        return s

    def refresh(self) -> None:
        """Re-read the journal (another process may have added turns)."""
        self._replay()

    def _replay(self) -> None:
        self.turns, self.head, self.redo_stack, self.references = {}, None, [], []
        raw = (self.path / JOURNAL).read_bytes()
        self._good_bytes = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn write: the event never completed
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                break
            self._apply(event)
            self._good_bytes += len(line)

    def _apply(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "turn":
            turn = Turn(**event["turn"])
            self.turns[turn.n] = turn
            self.head, self.redo_stack = turn.n, []
        elif kind == "undo":
            self.redo_stack.append(self.head)
            self.head = event["head"]
        elif kind == "redo":
            self.head = self.redo_stack.pop()
        elif kind == "reference":
            self.references.append(event["file"])
        else:
            raise SessionError(f"{self.path / JOURNAL}: unknown event {kind!r}")

    # --- writing ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time; the journal is re-read under the lock so a second process
        sees the first one's turns."""
        import fcntl

        with open(self.path / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self._replay()
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _append(self, event: dict) -> None:
        from render.encode import write_atomic

        journal = self.path / JOURNAL
        if journal.stat().st_size != self._good_bytes:
            # Drop a torn tail before appending after it.
            good = journal.read_bytes()[:self._good_bytes]
            write_atomic(str(journal), good, overwrite=True)
        line = (json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with open(journal, "ab") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self._apply(event)
        self._good_bytes += len(line)

    def add_turn(self, plan: Plan, image_data: bytes, *, kind: str, instruction: str,
                 renderer: str, seed: int, fmt: str = "png", summary: str = "",
                 parent: int | None = None) -> Turn:
        """Save a turn: its Plan and encoded image, then the journal line that commits it.

        Args:
            plan: the turn's Plan. image_data: the encoded image (metadata included).
            kind: new | import | edit. instruction: the prompt or edit instruction.
            parent: the turn it was made from (default: the current head). When another
                writer moved the head meanwhile, the turn records its true parent, so the
                other writer's turn stays in the history as a branch.
        Returns:
            The committed Turn, now the head.
        """
        from render.encode import write_atomic

        if kind not in ("new", "import", "edit"):
            raise SessionError(f"turn kind must be new, import or edit; got {kind!r}")
        with self._locked():
            n = max(self.turns, default=0) + 1
            plan_json = plan.to_json().encode("utf-8")
            plan_file = f"turns/{n:04d}.plan.json"
            image_file = f"turns/{n:04d}.{_EXT.get(fmt, fmt)}"
            # Leftovers of an uncommitted turn n (a crash before its journal line) are
            # overwritten: the journal never named them.
            write_atomic(str(self.path / plan_file), plan_json, overwrite=True)
            write_atomic(str(self.path / image_file), image_data, overwrite=True)
            turn = Turn(n=n, parent=self.head if parent is None else parent, kind=kind,
                        instruction=instruction, plan_file=plan_file, image_file=image_file,
                        image_sha256=sha256(image_data), plan_sha256=sha256(plan_json),
                        renderer=renderer, seed=seed, summary=summary)
            self._append({"event": "turn", "turn": asdict(turn)})
        return turn

    def add_reference(self, data: bytes, fmt: str) -> int:
        """Keep a reference image with the session; returns its index."""
        from render.encode import write_atomic

        with self._locked():
            i = len(self.references)
            name = f"refs/{i + 1:02d}.{_EXT.get(fmt, fmt)}"
            write_atomic(str(self.path / name), data, overwrite=True)
            self._append({"event": "reference", "file": name, "sha256": sha256(data)})
        return i

    def undo(self) -> Turn:
        """Step back to the current turn's parent.

        Raises:
            SessionError: at the first turn (nothing to undo).
        """
        with self._locked():
            cur = self.current
            if cur is None or cur.parent is None:
                raise SessionError("nothing to undo: this is the session's first turn")
            self._append({"event": "undo", "head": cur.parent})
        return self.current

    def redo(self) -> Turn:
        """Step forward to the turn last undone.

        Raises:
            SessionError: nothing was undone since the last turn.
        """
        with self._locked():
            if not self.redo_stack:
                raise SessionError("nothing to redo")
            self._append({"event": "redo", "head": self.redo_stack[-1]})
        return self.current

    # --- reading ---------------------------------------------------------------------
    @property
    def current(self) -> Turn | None:
        return None if self.head is None else self.turns[self.head]

    def branch(self) -> list[Turn]:
        """The turns from the first to the current one."""
        out, n = [], self.head
        while n is not None:
            out.append(self.turns[n])
            n = self.turns[n].parent
        return out[::-1]

    def history(self) -> list[tuple[Turn, str]]:
        """Every turn with its state: ``current``, ``active`` (behind the head),
        ``redo`` (undone, redoable) or ``dropped`` (undone, then replaced by a new turn)."""
        active = {t.n for t in self.branch()}
        redo = set(self.redo_stack)
        states = []
        for n in sorted(self.turns):
            state = ("current" if n == self.head else "active" if n in active
                     else "redo" if n in redo else "dropped")
            states.append((self.turns[n], state))
        return states

    def plan(self, turn: Turn | None = None) -> Plan:
        turn = turn or self._need_current()
        data = (self.path / turn.plan_file).read_bytes()
        if sha256(data) != turn.plan_sha256:
            raise SessionError(f"{turn.plan_file} does not match its journal checksum")
        return Plan.from_json(data.decode("utf-8"))

    def image_bytes(self, turn: Turn | None = None) -> bytes:
        turn = turn or self._need_current()
        data = (self.path / turn.image_file).read_bytes()
        if sha256(data) != turn.image_sha256:
            raise SessionError(f"{turn.image_file} does not match its journal checksum")
        return data

    def reference_bytes(self) -> list[bytes]:
        return [(self.path / name).read_bytes() for name in self.references]

    def _need_current(self) -> Turn:
        if self.current is None:
            raise SessionError(f"session {self.path} has no turns yet")
        return self.current


# --- turns made by the front door ----------------------------------------------------------
# ``lim`` is a limner.api.Limner (passed in: render/ does not import the front door).

def start_from_prompt(lim, session: Session, prompt: str, **generate_kwargs) -> Turn:
    """First turn of a session: generate ``prompt`` and save it.

    Raises:
        SessionError: the session already has turns.
    """
    _need_empty(session)
    result = lim.generate(prompt, **generate_kwargs)
    img = result[0]
    return session.add_turn(img.plan, img.data, kind="new", instruction=prompt,
                            renderer=result.renderer, seed=img.seed, fmt=img.format)


def start_from_image(session: Session, image) -> Turn:
    """First turn of a session: bring in an image (a limner file keeps its Plan; any other
    image gets an empty overlay Plan, so edits draw over its pixels).

    Raises:
        SessionError: the session already has turns. ImageInputError: an unusable image.
    """
    from render.edit import overlay_plan
    from render.encode import read_plan
    from render.references import encoded, open_image, read_bytes

    _need_empty(session)
    if hasattr(image, "getpixel"):
        data, fmt = encoded(open_image(image))
    else:
        data = read_bytes(image, "image")
        fmt = (open_image(data).format or "png").lower()
    plan = read_plan(data) or overlay_plan(open_image(data).size)
    return session.add_turn(plan, data, kind="import", instruction="(imported image)",
                            renderer="import", seed=plan.seed, fmt=fmt)


def edit_turn(lim, session: Session, instruction: str, *, references=(),
              notes: list | None = None, **edit_kwargs) -> Turn:
    """One edit of the current turn, saved as the next turn.

    Args:
        lim: the Limner doing the work. references: new reference images, kept with the
            session (indices continue after the ones given in earlier turns).
        notes: when given, receives what the renderer did not draw as asked.
        edit_kwargs: passed to ``Limner.edit`` (mask, size, quality, ...).
    Returns:
        The new current Turn (its ``summary`` says what changed).
    """
    from planner.diff import diff
    from render.references import encoded, load_references, read_bytes

    session.refresh()
    cur = session._need_current()
    plan0, data0 = session.plan(cur), session.image_bytes(cur)
    opened = load_references(references)
    if len(session.references) + len(opened) > 16:
        raise SessionError(f"a session holds at most 16 references; it has "
                           f"{len(session.references)} and {len(opened)} more were given")
    new = [(encoded(im)[0] if hasattr(item, "getpixel") else read_bytes(item, "references"),
            (im.format or "png").lower()) for item, im in zip(references, opened)]
    # kept with the session only once the edit succeeded: a refused edit (e.g. more
    # references than the renderer takes) leaves the session as it was
    result = lim.edit(instruction, image=data0, plan=plan0,
                      references=session.reference_bytes() + [d for d, _ in new],
                      **edit_kwargs)
    for data, fmt in new:
        session.add_reference(data, fmt)
    img = result[0]
    if notes is not None:
        notes.extend(getattr(result, "notes", ()))
    return session.add_turn(img.plan, img.data, kind="edit", instruction=instruction,
                            renderer=result.renderer, seed=img.seed, fmt=img.format,
                            summary=diff(plan0, img.plan).summary(), parent=cur.n)


def _need_empty(session: Session) -> None:
    if session.turns:
        raise SessionError(f"session {session.path} already has {len(session.turns)} turns; "
                           "edit it, or start another session")
