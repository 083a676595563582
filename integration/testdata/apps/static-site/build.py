import pathlib
import sys

import markdown

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for page in sorted(src.glob("*.md")):
    html = markdown.markdown(page.read_text(encoding="utf-8"))
    (out / (page.stem + ".html")).write_text(html + "\n", encoding="utf-8")
    print("rendered", page.name)
