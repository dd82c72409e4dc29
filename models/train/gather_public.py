"""Adds images from a fetched public GitHub repository (a bare git dir) to a local data set and its sources file.

Why: issue 23 needs thousands of public real photos and AI images with provenance that `npm run dataset` can rebuild
(every row: owner/repo@commit, a raw.githubusercontent URL at that commit, the file's sha256, a licence), and none of
them may be near a hidden evaluation image. Each file is kept byte-for-byte as the repository has it (so the URL's
bytes hash to the recorded sha256); nothing is re-encoded here.

Checks, in order, per candidate:
  - the source's lower-case `owner/repo` must not be listed (sha256) in holdout-exclude/sources.sha256;
  - the image must decode with PIL and have a short side >= --min-side;
  - its 64-bit dHash (PIL "L", resize 9x8 Lanczos, bit 8r+c = px(c,r) > px(c+1,r)) must be more than 6 bits from
    every hidden-set hash, every ../shared/datasets image and every image already in the output set.

usage (from the repo root; Debian's /usr/bin/python3, which has PIL and numpy):
  /usr/bin/python3 -m models.train gather --git-dir /work/.mirror/o+r/... --repo owner/repo --group G --label real \
      --generator "camera (...)" --license "MIT" [--include REGEX] [--exclude REGEX] [--limit N] [--notes TEXT]
  /usr/bin/python3 -m models.train gather --shared-index      # (re)builds the dHash index of ../shared/datasets once
  /usr/bin/python3 -m models.train gather --materialize [--sources S] [--mirrors M] [--out DIR]
      # rebuilds a set from its sources file and the fetched repositories alone (no network); exit 1 if a row is missing
The output folder (default /work/data/v2) gets files at image/<group>/<name>, rows appended to manifest.csv, and the
sources file (default models/datasets/sources-v2.csv) gets the same rows plus `url`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import urllib.parse

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = 200_000_000
HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.abspath(os.path.join(REPO_ROOT, "..", "shared"))
EXCLUDE = os.path.join(SHARED, "holdout-exclude")
COLUMNS = ["path", "label", "modality", "group", "source_repo", "generator", "license", "sha256", "notes"]
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
NEAR = 6


def dhash(img: Image.Image) -> int:
    g = np.asarray(img.convert("L").resize((9, 8), Image.LANCZOS), dtype=np.int16)
    bits = (g[:, :8] > g[:, 1:]).flatten()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


class HashIndex:
    """Hashes split into 8 bytes: two hashes within 6 bits share at least 2 identical bytes (pigeonhole), so a
    candidate is compared only with hashes that share one byte at the same position."""

    def __init__(self) -> None:
        self.buckets: list[dict[int, list[int]]] = [{} for _ in range(8)]
        self.count = 0

    def add(self, h: int) -> None:
        self.count += 1
        for i in range(8):
            self.buckets[i].setdefault((h >> (8 * i)) & 0xFF, []).append(h)

    def near(self, h: int, dist: int = NEAR) -> bool:
        for i in range(8):
            for other in self.buckets[i].get((h >> (8 * i)) & 0xFF, ()):
                if bin(h ^ other).count("1") <= dist:
                    return True
        return False


def load_hashes(path: str) -> list[int]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(line.split()[0], 16) for line in f if line.strip()]


def excluded_sources() -> set[str]:
    with open(os.path.join(EXCLUDE, "sources.sha256")) as f:
        return {line.strip().lower() for line in f if line.strip()}


def is_excluded(repo: str) -> bool:
    return hashlib.sha256(repo.lower().encode()).hexdigest() in excluded_sources()


def build_shared_index(out: str) -> None:
    root = os.path.join(SHARED, "datasets")
    with open(os.path.join(root, "manifest.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["modality"] == "image"]
    with open(out + ".tmp", "w") as o:
        for r in rows:
            try:
                with Image.open(os.path.join(root, r["path"])) as im:
                    o.write(f"{dhash(im):016x} {r['path']}\n")
            except Exception as e:  # a broken shared file cannot collide with anything: report and go on
                print(f"skip {r['path']}: {e}", file=sys.stderr)
    os.replace(out + ".tmp", out)


def summary(out: str) -> None:
    """Markdown table of the output set per group: label, count, source, licence, formats and sizes (the README's
    shortcut section needs them: a label that comes all in one format or size is a shortcut)."""
    import collections
    import statistics

    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    print("| group | label | files | source (owner/repo) | generator | licence | formats | short side (min-median-max) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for g in sorted(groups, key=lambda g: (groups[g][0]["label"] != "real", g)):
        rs = groups[g]
        fmts: collections.Counter = collections.Counter()
        sides = []
        for r in rs:
            with Image.open(os.path.join(out, r["path"])) as im:
                fmts[(im.format or "?").replace("JPEG", "JPG")] += 1
                sides.append(min(im.size))
        repos = sorted({r["source_repo"].split("@")[0] for r in rs})
        gens = sorted({r["generator"] for r in rs})
        lic = sorted({r["license"] for r in rs})
        cell = lambda xs: "; ".join(xs).replace("|", "/")  # noqa: E731
        print(
            f"| {g} | {rs[0]['label']} | {len(rs)} | {cell(repos)} | {cell(gens)} | {cell(lic)} | "
            f"{', '.join(f'{k} {v}' for k, v in fmts.most_common())} | "
            f"{min(sides)}-{int(statistics.median(sides))}-{max(sides)} |"
        )
    by_label = collections.Counter(r["label"] for r in rows)
    print(f"\n{len(rows)} files: " + ", ".join(f"{v} {k}" for k, v in sorted(by_label.items())) +
          f"; {len(groups)} groups from {len({r['source_repo'].split('@')[0] for r in rows})} repositories")


URL_RE = re.compile(r"^https://raw\.githubusercontent\.com/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)$")


def row_location(row: dict) -> tuple[str, str, str] | None:
    """(owner/repo, commit, path in the repository) of a sources row, or None when its url is not the
    raw.githubusercontent address of its source_repo's commit (then the row cannot be trusted to name its bytes)."""
    m = URL_RE.match(row["url"])
    repo, _, commit = row["source_repo"].partition("@")
    if not m or m.group(1) != repo or m.group(2) != commit:
        return None
    return repo, commit, urllib.parse.unquote(m.group(3))


def mirror_git_dir(mirrors: str, repo: str) -> str:
    """Where `fetch` puts owner/repo: MIRRORS/owner+repo/repo, a bare git dir or a work tree with .git in it."""
    git_dir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    if os.path.isdir(os.path.join(git_dir, ".git")):
        git_dir = os.path.join(git_dir, ".git")
    return git_dir


def unsafe_path(path: str) -> bool:
    """A row path that could leave OUT or clobber the manifest (the same rule as models/src/dataset/sources.ts)."""
    parts = path.split("/")
    return (path == "" or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts)
            or re.search(r"[\x00-\x1f\x7f]", path) is not None or path.endswith(".part")
            or (len(parts) == 1 and (path == "manifest.csv" or path.startswith(".manifest.csv"))))


def sha256_file(path: str) -> str:
    # The stdlib's, as export_common.sha256_file; not imported from there: this script runs on its own, torch-free.
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def materialize(sources: str, out: str, mirrors: str, progress_every: int = 200) -> int:
    """Writes every row's bytes of the sources file to OUT/<path> from the fetched repositories (no network: the
    bytes git holds at the row's commit and path, checked against sha256) and OUT/manifest.csv with the rows whose
    file is in place, in the sources file's order and gather's columns. A file already there with the right hash is
    kept (so a second run only fills gaps). A row that cannot be written (no mirror, commit or path in it, wrong
    hash, unsafe path) is reported on stderr and counted, never fatal. Returns the number of such rows."""
    with open(sources, newline="") as f:
        rows = list(csv.DictReader(f))
    os.makedirs(out, exist_ok=True)
    counts = {"written": 0, "present": 0, "missing": 0}
    missing_by_repo: dict[str, int] = {}
    commit_ok: dict[tuple[str, str], str | None] = {}  # (git dir, commit) -> None, or why it cannot be read
    placed = []

    def miss(row: dict, why: str) -> None:
        counts["missing"] += 1
        repo = row["source_repo"].partition("@")[0]
        missing_by_repo[repo] = missing_by_repo.get(repo, 0) + 1
        print(f"missing {row['path']}: {why}", file=sys.stderr)

    for i, r in enumerate(rows, 1):
        if progress_every and i % progress_every == 0:
            print(f"materialize: row {i}/{len(rows)}, before it {counts}", file=sys.stderr)
        if unsafe_path(r["path"]):
            miss(r, "unsafe path")
            continue
        dst = os.path.join(out, r["path"])
        if os.path.isfile(dst) and sha256_file(dst) == r["sha256"]:
            counts["present"] += 1
            placed.append(r)
            continue
        where = row_location(r)
        if where is None:
            miss(r, f"url {r['url']} is not raw.githubusercontent.com/<source_repo's repo>/<its commit>/...")
            continue
        repo, commit, repo_path = where
        git_dir = mirror_git_dir(mirrors, repo)
        key = (git_dir, commit)
        if key not in commit_ok:  # once per repository: says "no mirror" or "no commit" instead of N path errors
            if not os.path.isdir(git_dir):
                commit_ok[key] = f"no fetched repository at {git_dir}"
            else:
                try:
                    git(git_dir, "cat-file", "-e", f"{commit}^{{commit}}")
                    commit_ok[key] = None
                except subprocess.CalledProcessError:
                    commit_ok[key] = f"commit {commit} is not in {git_dir}"
        if commit_ok[key]:
            miss(r, commit_ok[key])
            continue
        try:
            data = git(git_dir, "cat-file", "blob", f"{commit}:{repo_path}")
        except subprocess.CalledProcessError as e:  # not in the tree, or listed but absent (a snapshot's size cap)
            miss(r, f"cannot read {commit[:12]}:{repo_path} ({e.stderr.decode(errors='replace').strip()})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != r["sha256"]:
            miss(r, f"sha256 mismatch: the repository's bytes hash to {digest}, the row says {r['sha256']}")
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = dst + ".part"  # a run stopped mid-write leaves no file that looks finished
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)
        counts["written"] += 1
        placed.append(r)

    manifest, tmp = os.path.join(out, "manifest.csv"), os.path.join(out, ".manifest.csv.tmp")
    with open(tmp, "w", newline="") as f:  # temp + rename: a reader never sees half a manifest
        wr = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        wr.writeheader()
        wr.writerows(placed)
    os.replace(tmp, manifest)
    for repo, n in sorted(missing_by_repo.items()):
        print(f"missing from {repo}: {n} row(s)", file=sys.stderr)
    print(f"materialized {len(rows)} rows into {out}: {counts['written']} written, {counts['present']} already "
          f"present, {counts['missing']} missing; manifest.csv lists {len(placed)}", file=sys.stderr)
    return counts["missing"]


def verify(sources: str, out: str, mirrors: str) -> int:
    """Checks the sources file against the repositories and the local set: every url is the raw.githubusercontent
    address of source_repo's commit and path, the bytes git holds there hash to sha256, the local file at `path`
    matches, and manifest.csv lists the same rows. Returns the number of problems (printed to stderr)."""
    with open(sources, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "manifest.csv"), newline="") as f:
        local = {r["path"]: r for r in csv.DictReader(f)}
    problems = 0

    def bad(row: dict, why: str) -> None:
        nonlocal problems
        problems += 1
        print(f"{row['path']}: {why}", file=sys.stderr)

    for r in rows:
        where = row_location(r)
        if where is None:
            bad(r, f"url {r['url']} is not raw.githubusercontent.com/{r['source_repo'].replace('@', '/')}/...")
            continue
        repo, commit, repo_path = where
        if is_excluded(repo):
            bad(r, f"{repo} is listed in holdout-exclude")
        git_dir = mirror_git_dir(mirrors, repo)
        try:
            data = git(git_dir, "cat-file", "blob", f"{commit}:{repo_path}")
            if hashlib.sha256(data).hexdigest() != r["sha256"]:
                bad(r, "the repository's bytes at that commit do not hash to sha256")
        except (subprocess.CalledProcessError, FileNotFoundError):
            bad(r, f"cannot read {commit}:{repo_path} from {git_dir}")
        l = local.pop(r["path"], None)
        if l is None:
            bad(r, "not in the local manifest")
        elif any(l[c] != r[c] for c in COLUMNS):
            bad(r, "the local manifest row differs")
    for path in local:
        problems += 1
        print(f"{path}: in the local manifest but not in the sources file", file=sys.stderr)
    print(f"verified {len(rows)} rows: {problems} problem(s)", file=sys.stderr)
    return problems


def git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout


def safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", s).strip("_")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared-index", action="store_true")
    ap.add_argument("--summary", action="store_true", help="print a markdown table of --out per group and exit")
    ap.add_argument("--verify", action="store_true", help="check --sources against the mirrors and --out, then exit")
    ap.add_argument("--materialize", action="store_true",
                    help="write every row of --sources from the mirrors into --out (and its manifest.csv), then exit")
    ap.add_argument("--mirrors", default="/work/.mirror", help="folder of fetched repositories (owner+repo/repo)")
    ap.add_argument("--git-dir")
    ap.add_argument("--repo", help="owner/repo as GitHub spells it")
    ap.add_argument("--group")
    ap.add_argument("--label", choices=["real", "synthetic", "semisynthetic"])
    ap.add_argument("--generator", default="")
    ap.add_argument("--license", default="")
    ap.add_argument("--notes", default="")
    ap.add_argument("--include", default="", help="regex on the repository path")
    ap.add_argument("--exclude", default="", help="regex on the repository path")
    ap.add_argument("--limit", type=int, default=0, help="at most N files from this run (0: all)")
    ap.add_argument("--stride", type=int, default=1, help="take every K-th candidate (spreads a --limit over folders)")
    ap.add_argument("--min-side", type=int, default=160)
    ap.add_argument("--max-aspect", type=float, default=4.0)
    ap.add_argument("--out", default="/work/data/v2")
    ap.add_argument("--sources", default=os.path.join(REPO_ROOT, "models", "datasets", "sources-v2.csv"))
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()

    shared_index_file = os.path.join(a.out, ".shared.dhash")
    if a.shared_index:
        os.makedirs(a.out, exist_ok=True)
        build_shared_index(shared_index_file)
        return
    if a.verify:
        sys.exit(1 if verify(a.sources, a.out, a.mirrors) else 0)
    if a.materialize:
        sys.exit(1 if materialize(a.sources, a.out, a.mirrors) else 0)
    if a.summary:
        summary(a.out)
        return
    if not (a.git_dir and a.repo and a.group and a.label):
        ap.error("--git-dir, --repo, --group and --label are required")
    if is_excluded(a.repo):
        sys.exit(f"{a.repo} is listed in holdout-exclude/sources.sha256: not used")

    commit = git(a.git_dir, "rev-parse", "HEAD").decode().strip()
    files = git(a.git_dir, "ls-tree", "-r", "-z", "--format=%(objectname) %(objecttype) %(path)", "HEAD").split(b"\0")
    cands = []
    for entry in files:
        if not entry:
            continue
        oid, kind, path = entry.decode("utf-8", "surrogateescape").split(" ", 2)
        if not path.lower().endswith(IMAGE_EXT) or kind != "blob":
            continue
        if a.include and not re.search(a.include, path):
            continue
        if a.exclude and re.search(a.exclude, path):
            continue
        cands.append((path, oid))
    cands.sort()
    cands = cands[:: max(1, a.stride)]

    hidden = HashIndex()
    for h in load_hashes(os.path.join(EXCLUDE, "images.dhash")):
        hidden.add(h)
    shared = HashIndex()
    for h in load_hashes(shared_index_file):
        shared.add(h)
    own_file = os.path.join(a.out, ".own.dhash")
    own = HashIndex()
    for h in load_hashes(own_file):
        own.add(h)

    manifest = os.path.join(a.out, "manifest.csv")
    have_paths = set()
    if os.path.exists(manifest):
        with open(manifest, newline="") as f:
            have_paths = {r["path"] for r in csv.DictReader(f)}
    stats = {"candidates": len(cands), "kept": 0, "hidden": 0, "shared": 0, "own": 0, "small": 0, "bad": 0}
    rows = []
    new_hashes = []
    short = a.repo.split("/")[1]
    for path, oid in cands:
        if a.limit and stats["kept"] >= a.limit:
            break
        try:
            data = git(a.git_dir, "cat-file", "blob", oid)
        except subprocess.CalledProcessError:  # a file over the snapshot's size limit is listed but absent
            stats["bad"] += 1
            continue
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                w, h = im.size
                if min(w, h) < a.min_side or max(w, h) / min(w, h) > a.max_aspect:
                    stats["small"] += 1
                    continue
                d = dhash(im)
                fmt = (im.format or "").lower()
        except Exception:
            stats["bad"] += 1
            continue
        if hidden.near(d):
            stats["hidden"] += 1
            continue
        if shared.near(d):
            stats["shared"] += 1
            continue
        if own.near(d):
            stats["own"] += 1
            continue
        name = safe_name(f"{short}__{path.replace('/', '__')}")
        out_path = f"image/{a.group}/{name}"
        if out_path in have_paths:
            stats["own"] += 1
            continue
        own.add(d)
        new_hashes.append(f"{d:016x} {out_path}\n")
        have_paths.add(out_path)
        sha = hashlib.sha256(data).hexdigest()
        notes = f"original {w}x{h} {fmt}, file as in the repository (not re-encoded); repo path {path}"
        if a.notes:
            notes += f"; {a.notes}"
        url = f"https://raw.githubusercontent.com/{a.repo}/{commit}/{urllib.parse.quote(path)}"
        row = {
            "path": out_path,
            "label": a.label,
            "modality": "image",
            "group": a.group,
            "source_repo": f"{a.repo}@{commit}",
            "generator": a.generator,
            "license": a.license,
            "sha256": sha,
            "notes": notes,
            "url": url,
        }
        rows.append((row, data))
        stats["kept"] += 1

    print(f"{a.repo} -> {a.group}: {stats}", file=sys.stderr)
    if a.dry_run:
        return
    for row, data in rows:
        dst = os.path.join(a.out, row["path"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
    for file, cols in ((manifest, COLUMNS), (a.sources, COLUMNS + ["url"])):
        new = not os.path.exists(file)
        with open(file, "a", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
            if new:
                wr.writeheader()
            for row, _ in rows:
                wr.writerow(row)
    with open(own_file, "a") as f:
        f.writelines(new_hashes)


if __name__ == "__main__":
    main()
