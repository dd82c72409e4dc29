"""The pipeline's stages: one entry point each (`python3 -m models.train STAGE`), in the order a bundle is made.

Pure data, no torch: the recipe checker and the tests read it without the training stack.
"""
from __future__ import annotations

# stage -> (module of this package, what it does)
STAGES: dict[str, tuple[str, str]] = {
    "gather": ("gather_public", "add a fetched public repository's images to a data set and its sources CSV"),
    "verify-nsfwjs": ("verify_port", "check the PyTorch MobileNetV2 port against nsfwjs under tfjs"),
    "verify-esrgan": ("esrgan_port", "check the PyTorch ESRGAN port against @upscalerjs under tfjs (--verify)"),
    "autoencoder": ("autoencoder", "train the latent autoencoder behind `pairs --models ae` on real photos"),
    "pairs": ("make_synthetic", "semisynthetic pairs: real photos through ESRGAN or the autoencoder (resumable)"),
    "tae-pairs": ("make_tae_pairs", "real / round-trip / region triplets through the five LDM tiny autoencoders"),
    "tae": ("tae", "the tiny autoencoders' round trips, exported to ONNX for validators (--export)"),
    "frames": ("video_frames", "a set's video rows as frame image rows"),
    "init": ("bundle_init", "rebuild a train checkpoint from a shipped bundle, checked against its parity.json"),
    "train": ("train", "time- or step-budgeted fine-tuning; checkpoints, validation and holdout logits"),
    "eval": ("evaluate", "validation, folds, crop policies, calibration, clips, re-encoding, reconstruction scores"),
    "folds": ("folds", "leave-groups-out: one short training run per line of folds.txt, then per-group AUCs"),
    "zero-generator": ("zero_generator", "train on real photos + local pairs only, score every other group"),
    "export": ("export_detector", "export a checkpoint as a bundle: model.onnx, manifest.json, parity.json"),
    "threshold": ("operating_point", "a bundle's operating point (calibration.threshold at a target FPR) from its run's logits"),
    "fixture": ("make_fixture", "the tiny untrained test bundle models/fixtures/tiny"),
    "tae-fixture": ("make_tae_fixture", "the tiny TAE-shaped round-trip models the validator tests use (models/fixtures/tae-tiny)"),
    "recipe": ("recipe", "print a shipped bundle's recipe (recipes/VERSION.json) as the commands that made it"),
}
