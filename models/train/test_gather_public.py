"""Unit tests for gather_public.py (PIL, numpy, git): /usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

from . import gather_public
from .gather_public import HashIndex, dhash, safe_name


def ramp(rising: bool) -> Image.Image:
    row = np.arange(0, 256, 256 // 90, dtype=np.uint8)[:90]
    return Image.fromarray(np.tile(row if rising else row[::-1], (80, 1)), "L")


class DHash(unittest.TestCase):
    def test_bit_8r_plus_c_is_set_when_pixel_c_is_brighter_than_pixel_c_plus_1(self):
        # holdout-exclude/README.md: bit 8r+c = px(c, r) > px(c+1, r) on the 9x8 Lanczos greyscale
        self.assertEqual(dhash(ramp(rising=True)), 0)
        self.assertEqual(dhash(ramp(rising=False)), (1 << 64) - 1)
        img = Image.new("L", (9, 8), 0)
        img.putpixel((0, 2), 255)  # only pixel (0, 2) is brighter than its right neighbour
        self.assertEqual(dhash(img), 1 << (8 * 2 + 0))

    def test_a_recompressed_copy_stays_within_the_near_distance(self):
        rng = np.random.default_rng(0)
        img = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).resize((384, 256), Image.BICUBIC)
        buf = io.BytesIO()
        img.resize((300, 200)).save(buf, "JPEG", quality=60)
        self.assertLessEqual(bin(dhash(img) ^ dhash(Image.open(buf))).count("1"), gather_public.NEAR)


class Index(unittest.TestCase):
    def test_finds_every_hash_within_six_bits_and_none_beyond(self):
        rng = np.random.default_rng(1)
        base = int(rng.integers(0, 2**63)) | 1 << 63
        index = HashIndex()
        index.add(base)
        for trial in range(200):
            bits = rng.choice(64, size=7, replace=False)
            six = base
            for b in bits[:6]:
                six ^= 1 << int(b)
            self.assertTrue(index.near(six), f"trial {trial}")
            self.assertFalse(index.near(six ^ 1 << int(bits[6])), f"trial {trial}")


class Names(unittest.TestCase):
    def test_safe_name_keeps_only_portable_characters(self):
        self.assertEqual(safe_name("karlo__assets__A man, (1).png"), "karlo__assets__A_man_1_.png")
        self.assertNotIn("/", safe_name("a/b c"))


class Gather(unittest.TestCase):
    def test_takes_files_byte_for_byte_and_drops_near_duplicates(self):
        with tempfile.TemporaryDirectory() as tmp:
            repo = os.path.join(tmp, "repo")
            os.makedirs(os.path.join(repo, "imgs"))
            rng = np.random.default_rng(2)
            a = Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8))
            a.save(os.path.join(repo, "imgs", "a.png"))
            a.save(os.path.join(repo, "imgs", "a_copy.jpg"), quality=80)  # the same picture: dropped as near
            Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(os.path.join(repo, "imgs", "b.png"))
            Image.new("RGB", (100, 100)).save(os.path.join(repo, "imgs", "tiny.png"))  # under --min-side
            git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"]
            subprocess.run(["git", "init", "-q", repo], check=True)
            subprocess.run([*git, "add", "."], check=True)
            subprocess.run([*git, "commit", "-qm", "x"], check=True)
            out, sources = os.path.join(tmp, "out"), os.path.join(tmp, "sources.csv")
            args = ["--git-dir", os.path.join(repo, ".git"), "--repo", "someone/example", "--group", "g",
                    "--label", "real", "--license", "MIT", "--out", out, "--sources", sources]
            subprocess.run([sys.executable, gather_public.__file__, *args], check=True, capture_output=True)
            with open(sources, newline="") as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(sorted(r["path"] for r in rows), ["image/g/example__imgs__a.png", "image/g/example__imgs__b.png"])
            commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
            for r in rows:
                with open(os.path.join(out, r["path"]), "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), r["sha256"])
                self.assertEqual(r["source_repo"], f"someone/example@{commit}")
                self.assertTrue(r["url"].startswith(f"https://raw.githubusercontent.com/someone/example/{commit}/imgs/"))
            # running it again adds nothing: every candidate is now a near-duplicate of the set itself
            subprocess.run([sys.executable, gather_public.__file__, *args], check=True, capture_output=True)
            with open(os.path.join(out, "manifest.csv"), newline="") as f:
                self.assertEqual(len(list(csv.DictReader(f))), 2)


class Materialize(unittest.TestCase):
    """--materialize rebuilds a set from its sources file and the fetched repositories, with no network."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        tmp = self.tmp.name
        # the layout `fetch` gives: MIRRORS/owner+repo/repo (here a work tree, so git dir repo/.git)
        self.mirrors = os.path.join(tmp, "mirrors")
        repo = os.path.join(self.mirrors, "someone+example", "repo")
        os.makedirs(os.path.join(repo, "imgs"))
        self.data = b"\x89PNG not really, but bytes are bytes \x00\xff"
        with open(os.path.join(repo, "imgs", "a b.png"), "wb") as f:
            f.write(self.data)
        git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(["git", "init", "-q", repo], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-qm", "x"], check=True)
        self.commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        self.out, self.sources = os.path.join(tmp, "out"), os.path.join(tmp, "sources.csv")

    def tearDown(self):
        self.tmp.cleanup()

    def row(self, path, sha256, repo="someone/example", repo_path="imgs/a%20b.png"):
        return {"path": path, "label": "real", "modality": "image", "group": "g",
                "source_repo": f"{repo}@{self.commit}", "generator": "camera", "license": "MIT", "sha256": sha256,
                "notes": "a, b", "url": f"https://raw.githubusercontent.com/{repo}/{self.commit}/{repo_path}"}

    def run_materialize(self, rows):
        with open(self.sources, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=gather_public.COLUMNS + ["url"], lineterminator="\n")
            wr.writeheader()
            wr.writerows(rows)
        return subprocess.run([sys.executable, gather_public.__file__, "--materialize", "--sources", self.sources,
                               "--mirrors", self.mirrors, "--out", self.out], capture_output=True, text=True)

    def manifest(self):
        with open(os.path.join(self.out, "manifest.csv"), newline="") as f:
            return f.readline().strip(), list(csv.DictReader(f, fieldnames=gather_public.COLUMNS))

    def test_writes_the_committed_bytes_and_a_manifest_in_the_gather_columns(self):
        good = self.row("image/g/example__imgs__a_b.png", hashlib.sha256(self.data).hexdigest())
        done = self.run_materialize([good])
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(self.out, good["path"]), "rb") as f:
            self.assertEqual(f.read(), self.data)
        header, rows = self.manifest()
        self.assertEqual(header, ",".join(gather_public.COLUMNS))  # no url: the manifest is the local set's
        self.assertEqual(rows, [{c: good[c] for c in gather_public.COLUMNS}])
        self.assertIn("1 written, 0 already present, 0 missing", done.stderr)
        # resumable: a second run keeps the file (same inode) and rewrites the same manifest
        inode = os.stat(os.path.join(self.out, good["path"])).st_ino
        again = self.run_materialize([good])
        self.assertIn("0 written, 1 already present, 0 missing", again.stderr)
        self.assertEqual(os.stat(os.path.join(self.out, good["path"])).st_ino, inode)
        self.assertEqual(self.manifest()[1], rows)

    def test_a_wrong_hash_or_a_missing_repository_is_reported_per_row_and_left_out(self):
        good = self.row("image/g/good.png", hashlib.sha256(self.data).hexdigest())
        wrong = self.row("image/g/wrong.png", "0" * 64)
        absent = self.row("image/g/absent.png", "1" * 64, repo="nobody/gone")
        done = self.run_materialize([wrong, good, absent])
        self.assertEqual(done.returncode, 1)  # not fatal: the good row after the bad one is still written
        self.assertRegex(done.stderr, r"missing image/g/wrong.png: sha256 mismatch")
        self.assertRegex(done.stderr, r"missing image/g/absent.png: no fetched repository")
        self.assertIn("missing from nobody/gone: 1 row(s)", done.stderr)
        self.assertIn("1 written, 0 already present, 2 missing", done.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, wrong["path"])))
        self.assertEqual([r["path"] for r in self.manifest()[1]], ["image/g/good.png"])


if __name__ == "__main__":
    unittest.main()
