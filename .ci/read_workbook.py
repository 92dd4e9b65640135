"""Reads a report.xlsx as a spreadsheet program would and prints what it holds as JSON, for the test
`workbook_opens_in_a_spreadsheet_reader` (tests/it/workbook.rs) to compare with the Parquet tables.

openpyxl opens the workbook and reads every sheet's cells and conditional formats; the charts, which openpyxl
does not read back, are found in the package itself, following each sheet's drawing to its chart parts.
Usage: python read_workbook.py REPORT.xlsx
"""

import datetime
import json
import posixpath
import re
import sys
import zipfile

import openpyxl

RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def rels(package, part):
    """The targets of a part's relationships, resolved against the part's folder."""
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", name + ".rels")
    if path not in package.namelist():
        return []
    text = package.read(path).decode("utf-8")
    return [
        posixpath.normpath(posixpath.join(folder, target))
        for target in re.findall(r'Target="([^"]+)"', text)
    ]


def charts_by_sheet(path):
    """Each sheet's charts (by sheet name): the chart's type and number of series."""
    out = {}
    with zipfile.ZipFile(path) as package:
        workbook = package.read("xl/workbook.xml").decode("utf-8")
        names = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', workbook)
        wb_rels = package.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', wb_rels))
        targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', wb_rels)})
        for name, rid in names:
            name = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
            sheet_part = posixpath.normpath(posixpath.join("xl", targets[rid]))
            charts = []
            for drawing in rels(package, sheet_part):
                if "/drawings/" not in drawing:
                    continue
                for chart in rels(package, drawing):
                    if "/charts/" not in chart:
                        continue
                    xml = package.read(chart).decode("utf-8")
                    kind = re.search(r"<c:(\w+Chart)>", xml).group(1)
                    charts.append({"part": chart, "type": kind, "series": xml.count("<c:ser>")})
            out[name] = charts
    return out


def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.strftime("%Y-%m")
    return v


def main():
    path = sys.argv[1]
    book = openpyxl.load_workbook(path)
    charts = charts_by_sheet(path)
    sheets = []
    for sheet in book.worksheets:
        formats = []
        for cf in sheet.conditional_formatting:
            formats.append(
                {"range": str(cf.sqref), "types": [rule.type for rule in cf.rules]}
            )
        rows = [[value(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        sheets.append(
            {
                "name": sheet.title,
                "rows": rows,
                "conditional_formats": formats,
                "charts": charts.get(sheet.title, []),
                "freeze": sheet.freeze_panes,
            }
        )
    json.dump({"sheets": sheets}, sys.stdout, allow_nan=False, default=str)


if __name__ == "__main__":
    main()
