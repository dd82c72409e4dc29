"""The fold drivers' pure parts (no torch): /usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import os
import tempfile
import unittest

from .folds import read_folds
from .zero_generator import held_groups


class Folds(unittest.TestCase):
    def test_fold_lines_skip_comments_and_blanks(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "folds.txt")
            with open(path, "w") as f:
                f.write("# fold per line\n\na,b\n  c \n")
            self.assertEqual(read_folds(path), ["a,b", "c"])

    def test_zero_generator_holds_out_every_image_group_but_the_kept_ones(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "manifest.csv"), "w", newline="") as f:
                f.write("path,label,modality,group\n"
                        "a.jpg,real,image,photos-a\nb.jpg,real,image,photos-b\n"
                        "c.jpg,synthetic,image,ai-c\nd.mp4,synthetic,video,video-d\n")
            self.assertEqual(held_groups(d, "photos-a"), "ai-c,photos-b")


if __name__ == "__main__":
    unittest.main()
