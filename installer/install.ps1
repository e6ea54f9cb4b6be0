<#
.SYNOPSIS
Installs sheep-xl and the SheepCRM Excel add-in for the current Windows user.

.DESCRIPTION
Creates (or reuses) a private Python environment, installs or upgrades sheep-xl in it, adds
the SheepCRM add-in to Excel and runs a check. Safe to run again. It never asks for your
SheepCRM API key: use "Sign in" on the SheepCRM tab in Excel afterwards.

.PARAMETER Source
What to install: a folder, a wheel file or a package name. Default: the folder above this script.

.PARAMETER VenvDir
Where to keep sheep-xl's own Python environment. Default: %LOCALAPPDATA%\sheep-xl\venv

.PARAMETER Python
The Python 3.11+ to build the environment from. Default: found with the py launcher or PATH.

.PARAMETER Target
Put the add-in and its settings in this folder instead of Excel's folders (for testing).

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1
#>
[CmdletBinding()]
param(
    [string]$Source = '',
    [string]$VenvDir = '',
    [string]$Python = '',
    [string]$Target = ''
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Say([string]$Message) {
    Write-Host ''
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Fail([string]$Message) {
    Write-Host ''
    Write-Host "ERROR: $Message" -ForegroundColor Red
    exit 1
}

# Runs a program; returns its exit code. Messages a program writes to stderr (pip's warnings)
# must not stop the script, so errors are not turned into exceptions while it runs.
function Invoke-Program([string]$Exe, [string[]]$Arguments) {
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        # Out-Host: the program's output is shown, not returned along with the exit code
        & $Exe @Arguments | Out-Host
        return $LASTEXITCODE
    } finally {
        $ErrorActionPreference = $previous
    }
}

function Invoke-Checked([string]$Exe, [string[]]$Arguments, [string]$What) {
    $code = Invoke-Program $Exe $Arguments
    if ($code -ne 0) {
        Fail "$What failed (exit code $code); see the messages above."
    }
}

# The full path of a Python 3.11+ started as "$Exe $Arguments", or '' if it is not one.
function Get-PythonPath([string]$Exe, [string[]]$Arguments) {
    if (-not (Get-Command $Exe -ErrorAction SilentlyContinue)) {
        return ''
    }
    $check = 'import sys; print(sys.executable) if sys.version_info >= (3, 11) else sys.exit(1)'
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        $output = & $Exe @($Arguments + @('-c', $check)) 2>$null
        if ($LASTEXITCODE -eq 0 -and $output) {
            return ([string]($output | Select-Object -Last 1)).Trim()
        }
    } catch {
        return ''
    } finally {
        $ErrorActionPreference = $previous
    }
    return ''
}

if (-not $Source) {
    $Source = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
}
if (-not $VenvDir) {
    if (-not $env:LOCALAPPDATA) {
        Fail 'The LOCALAPPDATA folder is not set; pass -VenvDir with a folder to use.'
    }
    $VenvDir = Join-Path $env:LOCALAPPDATA 'sheep-xl\venv'
}

Say 'Step 1 of 5: Looking for Python 3.11 or newer.'
Write-Host 'sheep-xl is written in Python, so it needs a recent Python to run.'
$basePython = ''
if ($Python) {
    $basePython = Get-PythonPath $Python @()
} else {
    $candidates = @(
        @('py', '-3.14'), @('py', '-3.13'), @('py', '-3.12'), @('py', '-3.11'), @('py', '-3'),
        @('python')
    )
    foreach ($candidate in $candidates) {
        $exe = $candidate[0]
        $arguments = @($candidate | Select-Object -Skip 1)
        $basePython = Get-PythonPath $exe $arguments
        if ($basePython) { break }
    }
}
if (-not $basePython) {
    Fail 'Python 3.11 or newer was not found; install it from https://www.python.org/downloads/windows/ (tick "Add python.exe to PATH") and run this installer again.'
}
Write-Host "Using $basePython"

Say "Step 2 of 5: Preparing sheep-xl's own Python environment in $VenvDir."
Write-Host 'It keeps sheep-xl and the tools it uses apart from everything else on this computer.'
$venvPython = Join-Path $VenvDir 'Scripts\python.exe'
$reuse = $false
if (Test-Path -LiteralPath $venvPython) {
    $reuse = ((Invoke-Program $venvPython @('-c', 'import sys')) -eq 0)
}
if ($reuse) {
    Write-Host 'The environment already exists; reusing it.'
} else {
    $parent = Split-Path -Parent $VenvDir
    if ($parent -and -not (Test-Path -LiteralPath $parent)) {
        New-Item -ItemType Directory -Path $parent -Force | Out-Null
    }
    Invoke-Checked $basePython @('-m', 'venv', '--clear', $VenvDir) 'Creating the environment'
    Write-Host 'Created the environment.'
}

Say "Step 3 of 5: Installing (or upgrading) sheep-xl from $Source."
Write-Host "This downloads sheep-xl's helpers (xlwings, pandas and others) and can take a few minutes."
Write-Host 'Please close Excel first, if it is open: Windows cannot update files Excel is using.'
$sourceIsFolder = Test-Path -LiteralPath $Source -PathType Container
if ($sourceIsFolder -and -not (Test-Path -LiteralPath (Join-Path $Source 'pyproject.toml'))) {
    Fail "$Source does not contain sheep-xl; pass -Source with the sheep-xl folder or package name."
}
Invoke-Checked $venvPython @('-m', 'pip', 'install', '--disable-pip-version-check', '--upgrade', 'pip') 'Upgrading pip'
Invoke-Checked $venvPython @('-m', 'pip', 'install', '--disable-pip-version-check', '--upgrade', $Source) 'Installing sheep-xl'

$sheepXl = Join-Path $VenvDir 'Scripts\sheep-xl.exe'
if (-not (Test-Path -LiteralPath $sheepXl)) {
    Fail "sheep-xl did not install correctly (no $sheepXl); check that -Source points at sheep-xl."
}
Say 'Step 4 of 5: Adding the SheepCRM add-in to Excel.'
Write-Host "This copies the add-in into Excel's startup folder (XLSTART) and tells it which Python to use."
$addinArguments = @('addin', 'install')
if ($Target) {
    $addinArguments += @('--target', $Target)
}
Invoke-Checked $sheepXl $addinArguments 'Adding the add-in'

Say 'Step 5 of 5: Checking the installation (sheep-xl doctor).'
Write-Host 'This shows the versions installed and tests the connection to SheepCRM.'
$doctorCode = Invoke-Program $sheepXl @('doctor')
if ($doctorCode -ne 0) {
    Write-Host ''
    Write-Host 'The check above reported a problem. If it only says that you are not signed in yet,'
    Write-Host 'that is expected: signing in is the next step.'
}

# The Sign in and Insert events dialogs are tkinter windows; python.org's installer can leave it out.
if ((Invoke-Program $venvPython @('-c', 'import tkinter')) -ne 0) {
    Write-Host ''
    Write-Host 'Note: this Python has no tkinter, which the Sign in and Insert events dialogs need.'
    Write-Host 'Run the python.org installer again, choose Modify and tick "tcl/tk and IDLE", then run this installer again.'
}

Say 'Done.'
Write-Host "Next: open Excel, go to the SheepCRM tab and click 'Sign in' to enter your API key."
Write-Host 'This installer never asks for your key; Sign in keeps it in Windows Credential Manager.'
Write-Host "To remove the add-in later: & '$sheepXl' addin remove"
exit 0
