"""The individual checks of docs/photo-profiles.md §5, each turning measurements into a ``Check``.

Face checks work on the face patch normalised by ``measures.normalised_face``; background and
clothing checks on the analysis view of the planned crop (output pixel scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from station.camera import measures as m
from station.camera.crop import Placement
from station.camera.faces import Face
from station.camera.profiles import Profile
from station.camera.report import FAIL, PASS, WARN, Check, Thresholds
from station.i18n import Text


def grade(value: float, pass_at: float, fail_at: float, higher_is_better: bool = True) -> str:
    """pass / warn / fail for a value against two thresholds (warn in between)."""
    if higher_is_better:
        return PASS if value >= pass_at else (FAIL if value < fail_at else WARN)
    return PASS if value <= pass_at else (FAIL if value > fail_at else WARN)


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def one_face_check(faces: list[Face], t: Thresholds) -> Check:
    ratio = faces[1].area / faces[0].area if len(faces) > 1 else 0.0
    if ratio >= t.second_face_ratio:
        return Check(
            "one_face",
            FAIL,
            {"faces": len(faces), "second_ratio": rounded(ratio, 3)},
            Text(zh="画面中有多张人脸,只能拍摄一人", en="more than one face in view; photograph one person"),
        )
    return Check(
        "one_face",
        PASS,
        {"faces": 1, "second_ratio": rounded(ratio, 3)},
        Text(zh="检测到一张人脸", en="one face"),
    )


def resolution_check(ied_source: float, t: Thresholds) -> Check:
    status = grade(ied_source, t.source_ied_pass, t.source_ied_fail)
    return Check(
        "source_resolution",
        status,
        {"ied_px": rounded(ied_source)},
        {
            PASS: Text(zh="人脸分辨率足够", en="face resolution is sufficient"),
            WARN: Text(zh="人脸偏小,请让考生靠近镜头", en="face is small; move the student closer"),
            FAIL: Text(
                zh="人脸太小(双眼间距不足 90 像素),请靠近镜头",
                en="face too small (eyes under 90 px apart); move closer",
            ),
        }[status],
    )


def output_ied_check(out_ied: float, profile: Profile) -> Check:
    status = grade(out_ied, profile.output_ied_pass, profile.output_ied_warn)
    return Check("output_ied", status, {"ied_px": rounded(out_ied)}, {
        PASS: Text(zh="成片中双眼间距合适", en="eye distance in the photo is adequate"),
        WARN: Text(zh="成片中双眼间距偏小", en="eye distance in the photo is on the small side"),
        FAIL: Text(zh="成片中双眼间距过小", en="eye distance in the photo is too small"),
    }[status])  # fmt: skip


def roll_check(face: Face, t: Thresholds) -> Check:
    if not face.eyes_located:
        return Check(
            "roll",
            WARN,
            None,
            Text(
                zh="未能定位双眼,请确认头部端正、眼睛未被遮挡",
                en="eyes not located; check the head is straight and the eyes are visible",
            ),
        )
    roll = face.roll_degrees
    status = grade(abs(roll), t.roll_pass, t.roll_fail, higher_is_better=False)
    return Check(
        "roll",
        status,
        {"degrees": rounded(roll)},
        {
            PASS: Text(zh="头部端正", en="head is level"),
            WARN: Text(zh="头部略有歪斜,请摆正", en="head slightly tilted; straighten it"),
            FAIL: Text(
                zh="头部歪斜,请摆正(照片不得旋转修正)",
                en="head tilted; straighten it (the photo may not be rotated)",
            ),
        }[status],
    )


def pose_check(face: Face, t: Thresholds) -> tuple[Check, bool]:
    yaw, pitch = face.yaw_pitch_degrees()
    if yaw is None:
        return Check(
            "pose",
            WARN,
            None,
            Text(
                zh="无法估计头部朝向,请确认正对镜头",
                en="head pose not measurable; check the student faces the camera",
            ),
        ), False
    worst = max(abs(yaw), abs(pitch) if pitch is not None else 0.0)
    status = grade(worst, t.pose_pass, t.pose_fail, higher_is_better=False)
    value = {"yaw_degrees": rounded(yaw), "pitch_degrees": rounded(pitch)}
    return Check(
        "pose",
        status,
        value,
        {
            PASS: Text(zh="正对镜头", en="facing the camera"),
            WARN: Text(zh="头部略有偏转,请正对镜头", en="head slightly turned; face the camera"),
            FAIL: Text(zh="头部偏转过大,请正对镜头", en="head turned too far; face the camera"),
        }[status],
    ), pitch is not None


_EDGE_HINTS = {
    "left": Text(zh="考生太靠画面左侧", en="the student is too far to the left of the view"),
    "right": Text(zh="考生太靠画面右侧", en="the student is too far to the right of the view"),
    "top": Text(zh="头部上方空间不足,请降低摄像头或让考生坐低", en="not enough room above the head; lower the camera or the student"),
    "bottom": Text(zh="下方空间不足,请抬高摄像头或让考生离远一些", en="not enough room below; raise the camera or move the student back"),
}  # fmt: skip


_TOO_CLOSE = Text(
    zh="考生离镜头太近,请后移或调整镜头", en="the student is too close to the camera; move back or zoom out"
)


def framing_check(placement: Placement, profile: Profile, size: tuple[int, int], t: Thresholds) -> Check:
    value = {
        "eye_line_px": rounded(placement.eye_line),
        "face_width_px": rounded(placement.face_width),
        "crown_gap_px": rounded(placement.crown_gap),
        "eye_mid_x_px": rounded(placement.eye_mid_x),
        "fits": placement.fits,
    }
    if not placement.fits:
        over = placement.overflow
        if (over["left"] > 0 and over["right"] > 0) or (over["top"] > 0 and over["bottom"] > 0):
            hint = _TOO_CLOSE  # the crop is larger than the view on both sides
        else:
            hint = _EDGE_HINTS[max(over, key=lambda k: over[k])]
        return Check(
            "framing",
            FAIL,
            value,
            Text(
                zh=f"无法在不补边的情况下按规格取景:{hint.zh}",
                en=f"the photo cannot be framed without padding: {hint.en}",
            ),
        )
    if placement.crown_gap is None:
        return Check(
            "framing",
            WARN,
            value,
            Text(
                zh="未能找到头顶位置,请核对头顶留白",
                en="top of the head not found; check the space above the head",
            ),
        )
    if not profile.crown_gap.contains(placement.crown_gap):
        return Check(
            "framing",
            WARN,
            value,
            Text(
                zh=f"头顶留白 {placement.crown_gap:.0f} 像素,超出 {profile.crown_gap.min:.0f}–{profile.crown_gap.max:.0f}(已优先保证眼睛位置)",
                en=f"space above the head {placement.crown_gap:.0f} px, outside {profile.crown_gap.min:.0f}–{profile.crown_gap.max:.0f} (eye position kept first)",
            ),
        )
    if placement.face_width < profile.face_width_warn_below:
        return Check(
            "framing", WARN, value, Text(zh="脸部在成片中偏窄", en="the face is narrow in the photo")
        )
    x0, y0, x1, y1 = placement.source_rect(profile)
    margin = min(x0, y0, size[0] - x1, size[1] - y1) / max(size)
    if margin < t.edge_margin:
        return Check(
            "framing",
            WARN,
            value,
            Text(
                zh="取景已贴近画面边缘,请让考生居中",
                en="framing is at the edge of the view; centre the student",
            ),
        )
    return Check("framing", PASS, value, Text(zh="取景符合规格", en="framing meets the profile"))


@dataclass(frozen=True)
class PatchGeometry:
    """Maps face landmarks into the normalised face patch."""

    face: Face
    factor: float
    x0: int
    y0: int

    def point(self, p: tuple[float, float]) -> tuple[float, float]:
        return ((p[0] - self.x0) * self.factor, (p[1] - self.y0) * self.factor)

    @property
    def ied(self) -> float:
        return self.face.ied * self.factor

    def box(self, patch: np.ndarray, shrink: float = 0.0) -> np.ndarray:
        f = self.face
        x0, y0 = self.point((f.x + shrink * f.w, f.y + shrink * f.h))
        x1, y1 = self.point((f.x + (1 - shrink) * f.w, f.y + (1 - shrink) * f.h))
        a, b, c, d = m.clip_box(patch.shape, x0, y0, x1, y1)
        return patch[b:d, a:c]

    def square(self, patch: np.ndarray, centre: tuple[float, float], side: float) -> np.ndarray:
        a, b, c, d = m.clip_box(
            patch.shape,
            centre[0] - side / 2,
            centre[1] - side / 2,
            centre[0] + side / 2,
            centre[1] + side / 2,
        )
        return patch[b:d, a:c]

    def cheeks(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Cheek centres: half the eye-to-mouth distance below each eye (OFIQ's placement)."""
        (lx, ly), (rx, ry) = (self.point(p) for p in self.face.eyes)
        drop = 0.55 * self.ied
        if self.face.mouth_left is not None and self.face.mouth_right is not None:
            mouth_y = (self.point(self.face.mouth_left)[1] + self.point(self.face.mouth_right)[1]) / 2
            drop = (mouth_y - (ly + ry) / 2) / 2
        return (lx, ly + drop), (rx, ry + drop)


def face_sharpness(face_box: np.ndarray, ied: float, target_ied: float) -> float:
    gray = cv2.cvtColor(face_box, cv2.COLOR_BGR2GRAY) if face_box.size else face_box
    if gray.size and ied > target_ied:
        k = target_ied / ied
        gray = cv2.resize(
            gray,
            (max(1, round(gray.shape[1] * k)), max(1, round(gray.shape[0] * k))),
            interpolation=cv2.INTER_AREA,
        )
    return m.sharpness(gray)


def sharpness_check(value: float, t: Thresholds) -> Check:
    status = grade(value, t.sharpness, 0.7 * t.sharpness)
    return Check(
        "sharpness",
        status,
        {"laplacian_var": rounded(value)},
        {
            PASS: Text(zh="对焦清晰", en="in focus"),
            WARN: Text(
                zh="图像略有模糊,请保持不动并确认对焦", en="slightly blurred; hold still and check focus"
            ),
            FAIL: Text(zh="图像模糊,请保持不动并重新对焦", en="blurred; hold still and refocus"),
        }[status],
    )


def exposure_checks(patch: np.ndarray, g: PatchGeometry, t: Thresholds) -> list[Check]:
    inner = g.box(patch, shrink=0.2)
    y = m.luma(inner)
    mean = float(y.mean()) if y.size else 0.0
    (plo, phi), (wlo, whi) = t.exposure_pass, t.exposure_warn
    if plo <= mean <= phi:
        exposure = Check(
            "exposure",
            PASS,
            {"mean_luma": rounded(mean)},
            Text(zh="面部亮度合适", en="face brightness is right"),
        )
    elif wlo <= mean <= whi:
        exposure = Check(
            "exposure",
            WARN,
            {"mean_luma": rounded(mean)},
            Text(
                zh="面部略暗" if mean < plo else "面部略亮",
                en="face slightly dark" if mean < plo else "face slightly bright",
            ),
        )
    else:
        exposure = Check(
            "exposure",
            FAIL,
            {"mean_luma": rounded(mean)},
            Text(
                zh="面部过暗,请增加面部照明" if mean < wlo else "面部过亮,请减弱照明或降低曝光",
                en="face too dark; add light on the face"
                if mean < wlo
                else "face too bright; reduce the light or exposure",
            ),
        )

    clipped = float((inner.max(axis=2) >= 250).mean()) if inner.size else 0.0
    status = grade(clipped, t.clipping_pass, t.clipping_fail, higher_is_better=False)
    clipping = Check(
        "clipping",
        status,
        {"fraction": rounded(clipped, 4)},
        {
            PASS: Text(zh="面部无过曝", en="no blown highlights on the face"),
            WARN: Text(zh="面部有少量过曝", en="a few blown highlights on the face"),
            FAIL: Text(zh="面部过曝,请减弱照明", en="blown highlights on the face; reduce the light"),
        }[status],
    )

    # Crushed shadows: eye and brow boxes are dark by nature and excluded.
    y_face = m.luma(inner)
    mask = np.ones(y_face.shape, bool)
    f = g.face
    ix0, iy0 = g.point((f.x + 0.2 * f.w, f.y + 0.2 * f.h))
    for eye in f.eyes:
        ex, ey = g.point(eye)
        a, b, c, d = m.clip_box(
            y_face.shape,
            ex - ix0 - 0.35 * g.ied,
            ey - iy0 - 0.45 * g.ied,
            ex - ix0 + 0.35 * g.ied,
            ey - iy0 + 0.25 * g.ied,
        )
        mask[b:d, a:c] = False
    dark = float((y_face[mask] <= 20).mean()) if mask.any() else 0.0
    status = grade(dark, t.shadows_pass, t.shadows_fail, higher_is_better=False)
    shadows = Check(
        "shadows",
        status,
        {"fraction": rounded(dark, 4)},
        {
            PASS: Text(zh="面部无死黑阴影", en="no crushed shadows on the face"),
            WARN: Text(zh="面部有较深阴影", en="deep shadows on the face"),
            FAIL: Text(zh="面部阴影过重,请补光", en="crushed shadows on the face; add fill light"),
        }[status],
    )

    # Range and entropy over the whole face box (hair line, eyes, lips), as OFIQ's face region.
    y_range = m.luma(g.box(patch, shrink=0.05))
    span = float(np.percentile(y_range, 99) - np.percentile(y_range, 1)) if y_range.size else 0.0
    bits = m.entropy_bits(y_range)
    # The span decides a failure; low entropy alone (a dim or flat face) is only a warning.
    if span < t.range_fail:
        status = FAIL
    elif span >= t.range_pass and bits >= t.entropy_pass:
        status = PASS
    else:
        status = WARN
    dynamic = Check(
        "dynamic_range",
        status,
        {"span": rounded(span), "entropy_bits": rounded(bits, 2)},
        {
            PASS: Text(zh="面部层次丰富", en="good tonal range on the face"),
            WARN: Text(zh="面部层次偏平", en="flat tonal range on the face"),
            FAIL: Text(
                zh="面部层次不足,请调整照明", en="too little tonal range on the face; adjust the lighting"
            ),
        }[status],
    )
    return [exposure, clipping, shadows, dynamic]


def symmetry_check(patch: np.ndarray, g: PatchGeometry, t: Thresholds) -> Check:
    side = 0.3 * g.ied
    left, right = (g.square(patch, c, side) for c in g.cheeks())
    if left.size == 0 or right.size == 0:
        return Check(
            "lighting_symmetry",
            WARN,
            None,
            Text(zh="无法测量面部两侧照明", en="cheek lighting not measurable"),
        )
    ml, mr = float(m.luma(left).mean()), float(m.luma(right).mean())
    value = abs(ml - mr) / max((ml + mr) / 2, 1.0)
    status = grade(value, t.symmetry_pass, t.symmetry_fail, higher_is_better=False)
    return Check(
        "lighting_symmetry",
        status,
        {"relative_difference": rounded(value, 3)},
        {
            PASS: Text(zh="面部两侧照明均匀", en="even lighting on both sides of the face"),
            WARN: Text(zh="面部两侧明暗略有差异", en="one side of the face is somewhat darker"),
            FAIL: Text(
                zh="面部一侧明显偏暗,请调整灯光或避开侧窗",
                en="one side of the face is dark; fix the lights or avoid side windows",
            ),
        }[status],
    )


def skin_check(patch: np.ndarray, g: PatchGeometry) -> Check:
    side = 0.3 * g.ied
    cheeks = [g.square(patch, c, side) for c in g.cheeks()]
    cheeks = [c for c in cheeks if c.size]
    inner = g.box(patch, shrink=0.2)
    if not cheeks or inner.size == 0:
        return Check("skin_colour", WARN, None, Text(zh="无法测量肤色", en="skin colour not measurable"))
    lab = m.lab_of(np.concatenate([c.reshape(-1, 3) for c in cheeks])[None])[0]
    a, b = float(lab[:, 1].mean()), float(lab[:, 2].mean())
    chroma = float(np.hypot(*m.lab_of(inner).reshape(-1, 3)[:, 1:].mean(axis=0)))
    raw = float(np.hypot(max(0.0, 5 - a, a - 25), max(0.0, 5 - b, b - 35)))
    value = {"a": rounded(a), "b": rounded(b), "distance": rounded(raw)}
    if chroma < 3.0:
        return Check(
            "skin_colour",
            FAIL,
            value,
            Text(zh="图像没有颜色(灰度图像)", en="the image has no colour (greyscale)"),
        )
    if raw > 0:
        return Check(
            "skin_colour",
            WARN,
            value,
            Text(zh="肤色偏色,请检查白平衡", en="skin colour looks off; check the white balance"),
        )
    return Check("skin_colour", PASS, value, Text(zh="肤色自然", en="natural skin colour"))


def glare_check(patch: np.ndarray, g: PatchGeometry, t: Thresholds, face_clipped: bool) -> Check:
    side = 0.6 * g.ied
    worst_blob, total = 0.0, 0.0
    for eye in g.face.eyes:
        blob, frac = m.glare_fraction(g.square(patch, g.point(eye), side))
        worst_blob, total = max(worst_blob, blob), max(total, frac)
    value = {"largest_blob": rounded(worst_blob, 4), "total": rounded(total, 4)}
    if face_clipped and (total > t.glare_total or worst_blob > t.glare_blob):
        # A blown-out face whitens the eyes too: the clipping check names the cause.
        return Check(
            "glasses_glare",
            WARN,
            value,
            Text(zh="面部过曝,无法判断眼镜反光", en="face over-exposed; lens glare cannot be judged"),
        )
    if total > t.glare_total:
        return Check(
            "glasses_glare",
            FAIL,
            value,
            Text(
                zh="眼部有反光,请调整眼镜角度或灯光",
                en="glare over the eyes; tilt the glasses or move the light",
            ),
        )
    if worst_blob > t.glare_blob:
        return Check(
            "glasses_glare", WARN, value, Text(zh="眼部可能有反光", en="possible glare over the eyes")
        )
    return Check("glasses_glare", PASS, value, Text(zh="眼部无反光", en="no glare over the eyes"))
