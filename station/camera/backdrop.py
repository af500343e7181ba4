"""Backdrop and clothing checks (docs/photo-profiles.md §5.5): uniformity, colour against the reference, contrast.

They look at the analysis view of the planned crop, at output pixel scale: two top-corner patches
(above the crown), the side bands at eye height (backdrop-coloured pixels only, so hair and shoulders
do not count), and the lower-centre clothing region.
"""

from __future__ import annotations

import numpy as np

from station.camera import measures as m
from station.camera.checks import grade, rounded
from station.camera.crop import Placement
from station.camera.profiles import Profile
from station.camera.report import FAIL, PASS, WARN, Check, Thresholds
from station.i18n import Text


def _region(view: np.ndarray, ox: int, oy: int, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Output-coordinate rectangle, cut from the analysis view that starts at (ox, oy)."""
    a, b, c, d = m.clip_box(view.shape, x0 - ox, y0 - oy, x1 - ox, y1 - oy)
    return view[b:d, a:c]


def background_checks(view: np.ndarray, ox: int, oy: int, placement: Placement, profile: Profile,
                       background: str | None, t: Thresholds) -> list[Check]:  # fmt: skip
    W, H = profile.width, profile.height
    top = 0.08 * H
    if placement.crown_gap is not None:
        top = max(3.0, min(top, placement.crown_gap - 3))
    corners = [_region(view, ox, oy, 0, 0, 0.1 * W, top), _region(view, ox, oy, 0.9 * W, 0, W, top)]
    corners = [c for c in corners if c.size >= 9]
    if not corners:
        not_seen = Text(zh="看不到背景", en="the backdrop is not visible")
        return [Check("background_uniformity", FAIL, None, not_seen), Check("background_colour", FAIL, None, not_seen),
                Check("clothing_contrast", WARN, None, not_seen)]  # fmt: skip
    stds = [float(c.reshape(-1, 3).astype(np.float32).std(axis=0).max()) for c in corners]
    means = [c.reshape(-1, 3).astype(np.float32).mean(axis=0) for c in corners]
    lr_diff = float(np.abs(means[0] - means[-1]).max()) if len(means) == 2 else 0.0
    corner_mean = np.mean(means, axis=0)
    # Down the sides at eye height: only pixels that look like backdrop (hair and shoulders excluded).
    side_diff = 0.0
    eye = placement.eye_line
    sides = [
        _region(view, ox, oy, 0, eye - 0.1 * H, 0.06 * W, eye),
        _region(view, ox, oy, 0.94 * W, eye - 0.1 * H, W, eye),
    ]
    for band in sides:
        pixels = band.reshape(-1, 3).astype(np.float32)
        if pixels.size == 0:
            continue
        near = np.linalg.norm(pixels - corner_mean, axis=1) < 40
        if near.mean() > 0.3:
            side_diff = max(side_diff, float(np.abs(pixels[near].mean(axis=0) - corner_mean).max()))
    std, diff = max(stds), max(lr_diff, side_diff)
    value = {"std": rounded(std), "difference": rounded(diff)}
    if std <= t.background_std_pass and diff <= t.background_diff_pass:
        uniform = Check("background_uniformity", PASS, value, Text(zh="背景均匀", en="the backdrop is even"))
    elif std <= t.background_std_fail and diff <= t.background_diff_fail:
        uniform = Check(
            "background_uniformity",
            WARN,
            value,
            Text(zh="背景略有不均(阴影或渐变)", en="the backdrop is slightly uneven (shadow or gradient)"),
        )
    else:
        uniform = Check(
            "background_uniformity",
            FAIL,
            value,
            Text(
                zh="背景不均匀(图案、阴影或渐变),请使用纯色背景布",
                en="the backdrop is uneven (pattern, shadow or gradient); use a plain backdrop",
            ),
        )

    reference_name = background or profile.default_background
    reference = m.lab_of_rgb(profile.background_rgb(reference_name))
    backdrop_lab = m.lab_of(np.concatenate([c.reshape(-1, 3) for c in corners])[None])[0].mean(axis=0)
    de = m.delta_e2000(backdrop_lab, reference)
    status = grade(de, t.background_de_pass, t.background_de_fail, higher_is_better=False)
    colour = Check(
        "background_colour",
        status,
        {"delta_e": rounded(de), "reference": reference_name},
        {
            PASS: Text(zh="背景颜色符合要求", en="backdrop colour matches"),
            WARN: Text(zh="背景颜色略有偏差", en="backdrop colour is slightly off"),
            FAIL: Text(
                zh="背景颜色不符合要求,请检查背景布和白平衡",
                en="backdrop colour does not match; check the backdrop and white balance",
            ),
        }[status],
    )

    clothing = _region(view, ox, oy, 0.35 * W, 0.9 * H, 0.65 * W, H)
    if clothing.size == 0:
        contrast = Check(
            "clothing_contrast", WARN, None, Text(zh="看不到衣着部分", en="clothing not visible")
        )
    else:
        cloth_lab = np.median(m.lab_of(clothing).reshape(-1, 3), axis=0)
        cde = m.delta_e2000(cloth_lab, backdrop_lab)
        status = grade(cde, t.clothing_de_pass, t.clothing_de_fail)
        contrast = Check(
            "clothing_contrast",
            status,
            {"delta_e": rounded(cde)},
            {
                PASS: Text(zh="衣着与背景区分明显", en="clothing stands out from the backdrop"),
                WARN: Text(zh="衣着与背景颜色接近", en="clothing is close to the backdrop colour"),
                FAIL: Text(
                    zh="衣着与背景颜色相同,请更换浅蓝色背景或衣着",
                    en="clothing matches the backdrop; switch to the light-blue backdrop or change clothing",
                ),
            }[status],
        )
    return [uniform, colour, contrast]
