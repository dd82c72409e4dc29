"""video_frames.py on a clip made here with ffmpeg (no torch):
/usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

# the stage runs as `python3 -m models.train.video_frames` from the repository root, as a user runs it
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from .data import build_items, split_items
from .video_frames import frame_times


class VideoFrames(unittest.TestCase):
    def test_frames_become_image_rows_split_by_repository(self):
        with tempfile.TemporaryDirectory() as src, tempfile.TemporaryDirectory() as out:
            # 8 fps, 1.875 s: the last sampled time (1.758 s) lies past the last frame (1.75 s)
            for name in ("a.mp4", "b.mp4"):
                subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8", "-t", "1.875",
                                "-pix_fmt", "yuv420p", "-c:v", "libx264", os.path.join(src, name)], check=True)
            with open(os.path.join(src, "broken.mp4"), "w") as f:
                f.write("not a video")
            with open(os.path.join(src, "manifest.csv"), "w", newline="") as f:
                f.write("path,label,modality,group,source_repo,notes\n"
                        "a.mp4,synthetic,video,clips,org/gen@abc123,\n"
                        "b.mp4,real,video,clips,,\n"
                        "broken.mp4,real,video,clips,,\n"
                        "photo.jpg,real,image,photos,,\n")
            cmd = [sys.executable, "-m", f"{__package__}.video_frames", "--data", src, "--out", out, "--frames", "4"]
            run = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
            self.assertIn("2 clips, 1 skipped", run.stderr)
            with open(os.path.join(out, "manifest.csv"), newline="") as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), 8)
            self.assertEqual({r["modality"] for r in rows}, {"image"})
            self.assertEqual([r["label"] for r in rows], ["synthetic"] * 4 + ["real"] * 4)
            self.assertTrue(all(os.path.getsize(os.path.join(out, r["path"])) > 0 for r in rows))
            self.assertTrue(rows[0]["notes"].startswith("pair=org/gen;"))  # repository without its commit
            self.assertTrue(rows[4]["notes"].startswith("pair=b.mp4;"))  # no repository: the clip itself
            # every frame of a clip lands on one side of any split
            items = build_items(out)
            for seed in range(5):
                _, val = split_items(items, 0.5, seed)
                self.assertIn(len(val), (0, 4, 8))
            # a rerun adds nothing for clips already written
            subprocess.run(cmd, capture_output=True, check=True)
            with open(os.path.join(out, "manifest.csv"), newline="") as f:
                self.assertEqual(len(list(csv.DictReader(f))), 8)

    def test_frame_times_match_the_runtime(self):
        # models/src/classify.ts sampleFrameTimes: (i + 0.5) * duration / count
        self.assertEqual(frame_times(2.0, 4), [0.25, 0.75, 1.25, 1.75])


if __name__ == "__main__":
    unittest.main()
