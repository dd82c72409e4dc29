"""Unit tests for the manifest reader and split (numpy + Pillow only, no torch):
/usr/bin/python3 -m unittest discover -s models/train -t . -p 'test_*.py'"""
import os
import tempfile
import unittest

from .data import build_items, read_manifest, split_items


def write(root: str, text: str) -> None:
    with open(os.path.join(root, "manifest.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(text)


class ReadManifest(unittest.TestCase):
    def test_path_and_label_only(self):
        with tempfile.TemporaryDirectory() as root:
            # BOM, padded capitalised headers, label case, a video, a bad path, a blank line
            write(root, "\ufeff Path ,LABEL\nreal/a.jpg,Real\nfake/b.PNG, synthetic\nclip.mp4,real\n../x.jpg,real\nx\\..\\y.jpg,real\n\n")
            rows = read_manifest(root)
            self.assertEqual([r["path"] for r in rows], ["real/a.jpg", "fake/b.PNG", "clip.mp4"])
            self.assertEqual([r["label"] for r in rows], ["real", "synthetic", "real"])
            self.assertEqual([r["modality"] for r in rows], ["image", "image", "video"])
            self.assertEqual({r["group"] for r in rows}, {"ungrouped"})
            items = build_items(root)
            self.assertEqual([(it["path"], it["y"], it["tile"]) for it in items], [("real/a.jpg", 0, -1), ("fake/b.PNG", 1, -1)])
            train, val = split_items(items, 0.5)
            self.assertEqual(len(train) + len(val), 2)

    def test_dots_only_refused_as_a_segment(self):
        with tempfile.TemporaryDirectory() as root:
            write(root, "path,label\na..b.jpg,real\nx/../y.jpg,real\n")
            self.assertEqual([r["path"] for r in read_manifest(root)], ["a..b.jpg"])

    def test_full_columns_kept(self):
        with tempfile.TemporaryDirectory() as root:
            write(root, "path,label,modality,group,notes\ng.webp,synthetic,image,sd1-grid2x2,2x2 grid\np.jpg,real,image,photos,pair=k1\n")
            items = build_items(root)
            self.assertEqual(sum(it["group"] == "sd1-grid2x2" for it in items), 4)
            self.assertEqual([it["unit"] for it in items if it["group"] == "photos"], ["photos|pair=k1"])

    def test_missing_label_column_is_an_error(self):
        with tempfile.TemporaryDirectory() as root:
            write(root, "path,group\na.jpg,x\n")
            with self.assertRaisesRegex(ValueError, "lacks the column\\(s\\) label"):
                read_manifest(root)


if __name__ == "__main__":
    unittest.main()


class RegionMask(unittest.TestCase):
    def test_soft_region_of_bounded_area(self):
        import numpy as np

        from .data import region_mask

        areas = []
        for seed in range(60):
            m = region_mask(256, np.random.default_rng(seed))
            self.assertEqual(m.shape, (256, 256))
            self.assertGreaterEqual(float(m.min()), 0.0)
            self.assertLessEqual(float(m.max()), 1.0)
            # a soft edge: some pixels strictly between 0 and 1
            self.assertTrue(((m > 0.05) & (m < 0.95)).any())
            areas.append(float(m.mean()))
        # the draw asks for 8-50 % of the frame; strokes and feathering move it a little either way
        self.assertGreater(min(areas), 0.02)
        self.assertLess(max(areas), 0.6)
        # seeded: the same stream gives the same mask (a resumed make_tae_pairs.py run remakes the same triplets)
        a, b = region_mask(128, np.random.default_rng(7)), region_mask(128, np.random.default_rng(7))
        self.assertTrue(np.array_equal(a, b))


class PairedSampling(unittest.TestCase):
    def test_partners_are_the_other_class_of_the_same_unit_and_tile(self):
        from .data import pair_partners

        with tempfile.TemporaryDirectory() as root:
            write(root, "path,label,group,notes\n"
                        "a_hr.jpg,real,tae-sd,pair=a\n"
                        "a_rt.jpg,synthetic,tae-sd,pair=a\n"
                        "a_rg.jpg,semisynthetic,tae-sd,pair=a\n"
                        "b.jpg,real,photos,\n"
                        "g_real.jpg,real,grid,pair=g; 2x2 grid\n"
                        "g_ai.jpg,synthetic,grid,pair=g; 2x2 grid\n")
            items = build_items(root)
        p = pair_partners(items)
        by = {(it["path"], it["tile"]): i for i, it in enumerate(items)}
        self.assertEqual(sorted(p[by[("a_hr.jpg", -1)]]), [by[("a_rt.jpg", -1)], by[("a_rg.jpg", -1)]])
        self.assertEqual(p[by[("a_rt.jpg", -1)]], [by[("a_hr.jpg", -1)]])
        self.assertEqual(p[by[("a_rg.jpg", -1)]], [by[("a_hr.jpg", -1)]])  # two AI sides are not each other's partner
        self.assertEqual(p[by[("b.jpg", -1)]], [])
        # grid tiles pair tile for tile
        self.assertEqual(p[by[("g_real.jpg", 2)]], [by[("g_ai.jpg", 2)]])

    def test_augment_without_reencode_keeps_a_decoder_trace(self):
        import numpy as np

        from .data import augment

        rng = np.random.default_rng(0)
        a = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
        b = a.copy()
        b[::2, ::2] ^= 1  # a faint trace: one bit on a quarter of the pixels
        # same seed, same draws: identical crops and photometry, so the trace is all that differs
        for seed in range(20):
            x = augment(a, 64, np.random.default_rng(seed), native_frac=1.0, reencode=0.0)
            y = augment(b, 64, np.random.default_rng(seed), native_frac=1.0, reencode=0.0)
            self.assertEqual(x.shape, (3, 64, 64))
            self.assertFalse(np.array_equal(x, y))
