"""The H.264 writer: frames come back in order, at size, close to what was written, for odd layouts too."""
from __future__ import annotations

import numpy as np
import pytest

from embodied.replay.video import VideoWriter, psnr, read_frames


@pytest.mark.parametrize("h,w", [(90, 198), (288, 768)])  # 90 rows: U/V planes are not whole rows of w
def test_round_trip(tmp_path, h, w):
    rng = np.random.default_rng(h)
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for t in range(12):  # smooth moving gradients with a coloured square: codec-friendly but distinct
        img = np.stack([xx * 200 // w + 5 * t, yy * 255 // h, np.full_like(xx, 40 + 15 * t)], -1)
        y0, x0 = rng.integers(0, h - 20), rng.integers(0, w - 20)
        img[y0:y0 + 20, x0:x0 + 20] = (250, 30, 30)
        frames.append(img.astype(np.uint8))
    with VideoWriter(tmp_path / "v.mp4", fps=5) as writer:
        for f in frames:
            writer.write(f)
    back, info = read_frames(tmp_path / "v.mp4")
    assert (info["codec"], info["width"], info["height"], info["fps"]) == ("h264", w, h, 5.0)
    assert len(back) == 12
    for t, f in enumerate(back):  # 4:2:0 chroma blurs the saturated square's edges: ~30 dB, not 40
        own = psnr(f, frames[t])
        assert own > 28 and all(own > psnr(f, frames[j]) + 5 for j in (t - 1, t + 1) if 0 <= j < 12)


def test_bad_frames_and_failed_writes_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match="even frame sizes"):
        with VideoWriter(tmp_path / "odd.mp4") as writer:
            writer.write(np.zeros((33, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="frame 1 is 64x32, the video is 64x34"):
        with VideoWriter(tmp_path / "mixed.mp4") as writer:
            writer.write(np.zeros((34, 64, 3), np.uint8))
            writer.write(np.zeros((32, 64, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []  # neither a video nor a temp file is left behind
