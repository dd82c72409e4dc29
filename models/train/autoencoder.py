"""A small latent autoencoder shaped like a latent-diffusion VAE, trained here on real photos only.

Why: every latent diffusion model (SD 1.x/2.x/XL/3, FLUX, most commercial generators) paints its final pixels with
the same kind of network: a decoder that upsamples a latent with nearest-neighbour x2 + 3x3 convolutions and
ResNet blocks (SiLU). Round-tripping a real photo through such an autoencoder gives a content-matched "fake" whose
only difference from its source is that decoder's trace (the aligned-dataset idea of Rajan et al., 2024, who used
the SD VAE itself; no diffusion weights can be installed here, so we train a decoder of the same family
ourselves). make_synthetic.py --models ae turns the result into training pairs.

Defaults are what two CPU cores afford (EXPERIMENTS.md, "A latent-autoencoder generator"): latent at 1/4 of the image with
12 channels (SD's 1/8 with 4-16 channels stayed blurry and colour-shifted after 25 minutes here) and no GroupNorm
(it normalises over the whole image, so a net trained on 64 px crops shifts colour on 512 px photos; TAESD has
none either). 22 minutes on one thread reach ~28 dB PSNR on training crops.

Usage (repo root; CPU, one thread leaves the other core to other jobs):
  nice -n 5 /usr/bin/python3 -m models.train autoencoder --data ../shared/datasets --out models/train/runs/ae2 \
      --minutes 22
Optionally continue it against a PatchGAN, as the LDM autoencoders are trained (their decoders paint texture rather
than the smooth average an L1 loss settles for). Measured on CPU, its pairs transferred worse than ae2's (EXPERIMENTS.md,
"A latent-autoencoder generator", "A GAN-trained decoder"); kept for a run at GPU scale:
  nice -n 5 /usr/bin/python3 -m models.train autoencoder --out models/train/runs/ae2-gan --minutes 25 \
      --init models/train/runs/ae2/ae.pt --gan-weight 0.5 --lr 2e-4
Writes OUT/ae.pt ({"config", "state"}) every 500 steps and at the end, and prints PSNR on fixed training crops as
it goes. Only real rows of the training split are read (the validation split train.py uses, unit hash <
--val-frac with seed 0, is skipped), so no validation photo shapes the generator.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import DEFAULT_DATA, build_items, load_image, unit_hash


def norm(c: int, group: bool) -> nn.Module:
    # GroupNorm (as in the SD VAE) normalises over the whole image, so a net trained on 64 px crops shifts colour
    # and contrast on 512 px photos; without it (as TAESD) the net works the same at every size.
    return nn.GroupNorm(min(32, c // 4), c, eps=1e-6) if group else nn.Identity()


class ResBlock(nn.Module):
    """LDM's ResnetBlock without the time embedding: GN-SiLU-conv twice, 1x1 shortcut when channels change."""

    def __init__(self, cin: int, cout: int, group: bool):
        super().__init__()
        self.body = nn.Sequential(
            norm(cin, group), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1), norm(cout, group), nn.SiLU(), nn.Conv2d(cout, cout, 3, padding=1)
        )
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.skip(x) + self.body(x)


class Upsample(nn.Module):
    """Nearest x2 then a 3x3 conv: the upsampler of the SD/FLUX VAE decoders, and the trace this module exists for."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Downsample(nn.Module):
    """LDM pads right/bottom by one and convolves with stride 2."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class AutoEncoder(nn.Module):
    def __init__(self, chans=(32, 64, 64), zch: int = 12, group_norm: bool = False):
        super().__init__()
        self.factor = 2 ** (len(chans) - 1)
        enc = [nn.Conv2d(3, chans[0], 3, padding=1)]
        for i, c in enumerate(chans):
            enc.append(ResBlock(chans[i - 1] if i else chans[0], c, group_norm))
            if i < len(chans) - 1:
                enc.append(Downsample(c))
        enc += [ResBlock(chans[-1], chans[-1], group_norm), norm(chans[-1], group_norm), nn.SiLU(), nn.Conv2d(chans[-1], zch, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec = [nn.Conv2d(zch, chans[-1], 3, padding=1), ResBlock(chans[-1], chans[-1], group_norm)]
        rev = list(reversed(chans))
        for i, c in enumerate(rev):
            dec.append(ResBlock(rev[i - 1] if i else rev[0], c, group_norm))
            if i < len(rev) - 1:
                dec.append(Upsample(c))
        dec += [norm(rev[-1], group_norm), nn.SiLU(), nn.Conv2d(rev[-1], 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor, noise: float = 0.0) -> torch.Tensor:
        """x: float [N,3,H,W] in -1..1 (H, W multiples of self.factor) -> reconstruction, same range."""
        z = self.encoder(x)
        if noise:
            # a little latent noise, as the KL-VAE's sampled posterior gives, so the decoder tolerates imperfect latents
            z = z + noise * torch.randn_like(z)
        return self.decoder(z)


class PatchDiscriminator(nn.Module):
    """The PatchGAN of pix2pix that the LDM autoencoders train against (NLayerDiscriminator, 3 layers): it judges
    ~70 px windows, so it pushes the decoder to paint local texture (hair, foliage) where L1 settles for smoothness."""

    def __init__(self, ndf: int = 32, layers: int = 3):
        super().__init__()
        seq = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = ndf
        for i in range(1, layers + 1):
            c2 = ndf * min(2**i, 8)
            seq += [nn.Conv2d(c, c2, 4, 2 if i < layers else 1, 1, bias=False), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2)]
            c = c2
        seq.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*seq)

    def forward(self, x):
        return self.net(x)


def load_ae(path: str) -> AutoEncoder:
    ck = torch.load(path, map_location="cpu")
    net = AutoEncoder(tuple(ck["config"]["chans"]), ck["config"]["zch"], ck["config"].get("norm", "group") == "group")
    net.load_state_dict(ck["state"])
    net.config = ck["config"]  # factor, latent channels, steps: make_synthetic.py writes them into the manifest
    return net.eval()


@torch.no_grad()
def reconstruct(net: AutoEncoder, img: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 (sides multiples of net.factor) -> uint8 reconstruction of the same size."""
    x = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    y = net(x).clamp(-1, 1)
    return ((y[0].permute(1, 2, 0).numpy() + 1.0) * 127.5).round().astype(np.uint8)


def finite_differences(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return t[..., :, 1:] - t[..., :, :-1], t[..., 1:, :] - t[..., :-1, :]


def gradient_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L1 between finite differences: a pixel L1 alone settles for blur, which would make "blurry" the learnt trace."""
    return sum((da - db).abs().mean() for da, db in zip(finite_differences(a), finite_differences(b)))


def random_crops(arrays: list[np.ndarray], n: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    out = np.empty((n, size, size, 3), np.uint8)
    for k in range(n):
        a = arrays[int(rng.integers(len(arrays)))]
        h, w = a.shape[:2]
        t, l = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        c = a[t : t + size, l : l + size]
        out[k] = c[:, ::-1] if rng.random() < 0.5 else c
    return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = ((a.clamp(-1, 1) - b) ** 2).mean().item() / 4.0  # -1..1 -> 0..1 units
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", action="append", help="dataset folder with manifest.csv (repeat for several); real image rows are used")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=22)
    ap.add_argument("--size", type=int, default=64, help="training crop side, native resolution (multiple of the factor)")
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--chans", default="32,64,64", help="channels per level; levels - 1 = number of x2 steps")
    ap.add_argument("--zch", type=int, default=12, help="latent channels (SD 1.x/2.x/XL: 4; SD3 and FLUX: 16)")
    ap.add_argument("--norm", default="none", choices=("none", "group"), help="group: GroupNorm as in the SD VAE (size-dependent, see norm())")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--grad-weight", type=float, default=1.0)
    ap.add_argument("--latent-noise", type=float, default=0.05)
    ap.add_argument("--max-images", type=int, default=1500)
    ap.add_argument("--val-frac", type=float, default=0.15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="", help="continue from this ae.pt (its architecture wins over --chans/--zch/--norm)")
    ap.add_argument("--gan-weight", type=float, default=0.0, help="PatchGAN hinge loss weight, scaled adaptively as in LDM (0 = off)")
    ap.add_argument("--disc-start", type=float, default=0.0, help="share of the time budget before the discriminator joins")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    roots = args.data or [DEFAULT_DATA]
    items = [it for it in build_items(roots) if it["y"] == 0 and unit_hash(it["unit"], 0) >= args.val_frac]
    if not items:
        raise SystemExit("no real training images in --data")
    rng.shuffle(items)
    items = items[: args.max_images]
    arrays = []
    t0 = time.time()
    for k, it in enumerate(items):
        try:
            a = load_image(it["root"], it)
        except Exception as e:  # noqa: BLE001 - one unreadable file must not stop the run
            print(f"skip {it['path']}: {e}", flush=True)
            continue
        if min(a.shape[:2]) >= args.size:
            arrays.append(a)
        if (k + 1) % 250 == 0:
            print(f"loaded {k + 1}/{len(items)} images ({time.time() - t0:.0f}s)", flush=True)
    hold = arrays[:40]  # fixed crops for the PSNR readout (training photos, so it tracks fit, not generalisation)
    vrng = np.random.default_rng(1)
    vx = random_crops(hold, 48, args.size, vrng)

    prior_steps, prior_gan = 0, False
    if args.init:
        net = load_ae(args.init).train()
        chans, args.zch, args.norm = tuple(net.config["chans"]), net.config["zch"], net.config.get("norm", "group")
        prior_steps, prior_gan = int(net.config.get("steps", 0)), bool(net.config.get("gan"))
    else:
        chans = tuple(int(c) for c in args.chans.split(","))
        net = AutoEncoder(chans, args.zch, args.norm == "group")
    if args.size % net.factor:
        raise SystemExit(f"--size must be a multiple of {net.factor}")
    print(f"{len(arrays)} images; {sum(p.numel() for p in net.parameters()) / 1e6:.2f} M params, factor {net.factor}, latent {args.zch} ch", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    disc = PatchDiscriminator() if args.gan_weight else None
    # LDM's discriminator optimiser: Adam with beta1 0.5
    dopt = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.9)) if disc else None
    os.makedirs(args.out, exist_ok=True)
    config = {"chans": list(chans), "zch": args.zch, "factor": net.factor, "size": args.size, "norm": args.norm, "gan": bool(disc) or prior_gan}
    last_layer = net.decoder[-1].weight

    def save(step: int, p: float):
        cfg = {**config, "steps": prior_steps + step, "psnr": p}
        torch.save({"config": cfg, "state": net.state_dict()}, os.path.join(args.out, "ae.pt"))

    def adaptive_weight(rec: torch.Tensor, gen: torch.Tensor) -> torch.Tensor:
        """LDM's balance: scale the GAN term so its gradient on the decoder's last layer matches the reconstruction
        term's, so neither drowns the other whatever their raw sizes."""
        g_rec = torch.autograd.grad(rec, last_layer, retain_graph=True)[0]
        g_gen = torch.autograd.grad(gen, last_layer, retain_graph=True)[0]
        return (g_rec.norm() / (g_gen.norm() + 1e-4)).clamp(0.0, 1e4).detach() * args.gan_weight

    @torch.no_grad()
    def readout() -> float:
        """PSNR on the fixed crops, without latent noise; leaves the net in training mode."""
        net.eval()
        p = psnr(net(vx), vx)
        net.train()
        return p

    if args.init:
        print(f"start: psnr {readout():.2f} dB", flush=True)
    budget = args.minutes * 60
    t0 = time.time()
    step = 0
    while time.time() - t0 < budget:
        # cosine decay on elapsed time, so a shorter budget still ends at a low rate
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * frac))
        if dopt:
            for g in dopt.param_groups:
                g["lr"] = opt.param_groups[0]["lr"]
        x = random_crops(arrays, args.batch, args.size, rng)
        y = net(x, args.latent_noise)
        loss = (y - x).abs().mean() + args.grad_weight * gradient_l1(y, x)
        gan_on = disc is not None and frac >= args.disc_start
        if gan_on:
            gen = -disc(y).mean()  # hinge generator loss
            w = adaptive_weight(loss, gen)
            loss = loss + w * gen
        opt.zero_grad()
        loss.backward()
        opt.step()
        if gan_on:
            # hinge discriminator loss on real crops vs the (detached) reconstructions
            d_loss = 0.5 * (F.relu(1.0 - disc(x)).mean() + F.relu(1.0 + disc(y.detach())).mean())
            dopt.zero_grad()
            d_loss.backward()
            dopt.step()
        step += 1
        if step % 100 == 0:
            p = readout()
            extra = f" gan w {w.item():.3f} d {d_loss.item():.3f}" if gan_on else ""
            print(f"step {step} loss {loss.item():.4f} psnr {p:.2f} dB{extra} ({time.time() - t0:.0f}s, {step * args.batch / (time.time() - t0):.1f} crops/s)", flush=True)
            if step % 500 == 0:
                save(step, p)
    p = readout()
    save(step, p)
    print(f"done: {step} steps, psnr {p:.2f} dB -> {os.path.join(args.out, 'ae.pt')}", flush=True)


if __name__ == "__main__":
    main()
