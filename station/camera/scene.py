"""Why no face was found: the likely cause, named from the whole frame (docs/photo-profiles.md §5.2, check 1).

"Face the camera" helps nobody when the lens cap is on or the seat is empty. When the detector finds
no face, ``likely_cause`` looks at a small grey copy of the frame and names the first cause that fits:

=========== =========================================================== ===================================
cause       measure (grey copy at most 320 px wide)                     [PROP] threshold
=========== =========================================================== ===================================
``dark``    mean grey of the whole frame                                below 40
``empty``   standard deviation of the whole frame (a plain backdrop)    below 10
``bright``  share of pixels at 250 or above in the centre (face area)   above 0.6
``blurred`` variance of the Laplacian in the centre                     below 15
``no_face`` none of the above: someone is there but not facing the camera, or the face is covered
=========== =========================================================== ===================================

The centre is 30–70 % across and 20–80 % down, where a seated student's face is. On the simulated
desk picture (a real portrait on a white backdrop) the centre holds 26 % blown pixels and a Laplacian
variance of about 870; an empty backdrop has a deviation near 0.
"""

from __future__ import annotations

import cv2
import numpy as np

from station.i18n import Text

CAUSES = {
    "dark": Text(
        "画面太暗，看不到人脸：请打开照明，或检查镜头盖是否取下。",
        "The picture is too dark to find a face: turn the light on or check the lens cap.",
    ),
    "empty": Text(
        "镜头前没有人：请学生坐到镜头前。", "Nobody in view: seat the student in front of the camera."
    ),
    "bright": Text(
        "画面过亮，人脸被照白：请减弱照明或调低摄像头曝光。",
        "The picture is too bright and washes the face out: reduce the light or the camera's exposure.",
    ),
    "blurred": Text(
        "画面模糊，找不到人脸：请擦拭镜头或重新对焦。",
        "The picture is blurred and no face is found: clean the lens or refocus.",
    ),
    "no_face": Text(
        "未检测到人脸：请学生正对镜头，摘下帽子、口罩，头发不要遮挡面部。",
        "No face found: have the student face the camera, without hat or mask, hair clear of the face.",
    ),
}


def likely_cause(frame: np.ndarray) -> str:
    """The likely reason a BGR ``frame`` shows no detectable face (a key of ``CAUSES``)."""
    width = frame.shape[1]
    if width > 320:
        frame = cv2.resize(
            frame, (320, max(1, round(frame.shape[0] * 320 / width))), interpolation=cv2.INTER_AREA
        )
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    if float(grey.mean()) < 40:
        return "dark"
    if float(grey.std()) < 10:
        return "empty"
    height, width = grey.shape
    centre = grey[int(height * 0.2) : max(int(height * 0.8), 1), int(width * 0.3) : max(int(width * 0.7), 1)]
    if float((centre >= 250).mean()) > 0.6:
        return "bright"
    if float(cv2.Laplacian(centre, cv2.CV_64F).var()) < 15:
        return "blurred"
    return "no_face"
