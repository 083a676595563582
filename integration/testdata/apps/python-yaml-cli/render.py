"""Render a YAML inventory as a text report."""
import argparse
import pathlib

import jinja2
import yaml

here = pathlib.Path(__file__).parent
parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("inventory")
parser.add_argument("--template", default="report.txt.j2")
args = parser.parse_args()

data = yaml.safe_load(pathlib.Path(args.inventory).read_text(encoding="utf-8"))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(here / "templates"), undefined=jinja2.StrictUndefined,
                         keep_trailing_newline=True)
print(env.get_template(args.template).render(data=data, yaml_c=yaml.__with_libyaml__), end="")
