"""Draws the app icons (192, 512 and a maskable 512) into static/icons. Run once after changing the design;
the PNGs are committed. Needs a CJK font (Debian: fonts-noto-cjk)."""
import os

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
OUT = os.path.join(os.path.dirname(__file__), "..", "static", "icons")


def icon(size, maskable):
    image = Image.new("RGB", (size, size), "#1b5e20")
    draw = ImageDraw.Draw(image)
    if not maskable:  # a rounded tile on white corners is fine for "any"; maskable fills the whole square
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 6, fill="#1b5e20")
    scale = 0.5 if maskable else 0.62  # maskable: keep the glyph inside the 80% safe zone
    font = ImageFont.truetype(FONT, int(size * scale))
    draw.text((size / 2, size / 2), "村", font=font, fill="white", anchor="mm")
    return image


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    icon(192, False).save(os.path.join(OUT, "icon-192.png"), optimize=True)
    icon(512, False).save(os.path.join(OUT, "icon-512.png"), optimize=True)
    icon(512, True).save(os.path.join(OUT, "maskable-512.png"), optimize=True)
    print("icons written to", os.path.abspath(OUT))
