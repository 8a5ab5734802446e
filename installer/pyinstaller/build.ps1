# Build the Windows bundle: OUT\ecr-token-tray\ecr-token-tray.exe (tray, no console) and
# ecr-token-tray-cli.exe (console). Usage, from a checkout, in PowerShell:
#   py -3.12 -m venv .venv; .venv\Scripts\pip install pyinstaller .
#   .\installer\pyinstaller\build.ps1 [-Out dist] [-Python .venv\Scripts\python.exe]
param(
    [string]$Out = "",
    [string]$Python = ""
)
$ErrorActionPreference = "Stop"
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Repo = Resolve-Path (Join-Path $Here "..\..")
if (-not $Out) { $Out = Join-Path $Repo "dist" }
if (-not $Python) {
    $VenvPython = Join-Path $Repo ".venv\Scripts\python.exe"
    $Python = if (Test-Path $VenvPython) { $VenvPython } else { "python" }
}
& $Python -c "import PyInstaller, tray_app"
if ($LASTEXITCODE -ne 0) {
    Write-Error "$Python lacks PyInstaller or the app: run '$Python -m pip install pyinstaller $Repo'"
}
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$Work = Join-Path $Out ".work"
& $Python -m PyInstaller --noconfirm --clean --log-level WARN `
    --distpath $Out --workpath $Work (Join-Path $Here "ecr-token-tray-windows.spec")
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Remove-Item -Recurse -Force $Work
Write-Output "built: $(Join-Path $Out 'ecr-token-tray\ecr-token-tray.exe')"
