#!/bin/sh
# Render a case's workbook to PDF and PNG pages, to see it as a reader (or a printer) will.
#   docs/render_workbook.sh BUNDLE [OUT_DIR]
# Needs LibreOffice (soffice) and pdftoppm (poppler-utils):
#   apt-get install -y libreoffice-calc poppler-utils
# Writes OUT_DIR/report.xlsx, OUT_DIR/report.pdf (every sheet, as printed) and OUT_DIR/page-N.png,
# and prints the number of pages.
set -eu
bundle=${1:?usage: docs/render_workbook.sh BUNDLE [OUT_DIR]}
out=${2:-render}
mkdir -p "$out"
python=${PYTHON:-python3}
"$python" -m logcorr diagnose "$bundle" --xlsx "$out/report.xlsx" > "$out/diagnose.txt" || true
test -s "$out/report.xlsx"
# A private LibreOffice profile, so that a running LibreOffice does not take the job.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
soffice -env:UserInstallation="file://$profile" --headless --convert-to pdf --outdir "$out" \
  "$out/report.xlsx" > /dev/null
rm -f "$out"/page-*.png
pdftoppm -r 60 -png "$out/report.pdf" "$out/page"
pages=$(ls "$out"/page-*.png | wc -l)
echo "$out/report.pdf: $pages pages"
