<#
.SYNOPSIS
    Registers (or brings up to date) the Task Scheduler task that runs Flowdesk's scheduled jobs
    (inbox folders, housekeeping): `flask jobs run` every minute.

.DESCRIPTION
    Run as Administrator on each web server, after Install-Flowdesk.ps1. Every step checks the
    current state first and changes only what differs, so it can be run again after each
    deployment; it prints one line per step.

    Settings: the task needs the same settings as the site (database, schemas, SECRET_KEY...).
    The site keeps them in its application pool's environment variables. This script copies them
    into <AppRoot>\.env, which `flask` reads at start-up (python-dotenv) because the task starts
    in <AppRoot>. FLASK_APP=flasky and FLASK_CONFIG=production are added. The file holds
    secrets: it is readable only by Administrators, SYSTEM and the task's account (inheritance
    removed), and never part of the repository (.gitignore). Run the script again after changing
    a pool setting.

    Account: the task runs as the account that owns the database login and can change files in
    the inbox shares.
    - Default: NT AUTHORITY\NETWORK SERVICE. Like the pool's ApplicationPoolIdentity, it
      authenticates to SQL Server and to shares as the server's computer account (CORP\WEB01$),
      so the login and share permissions of the site serve the task too.
    - -ServiceAccount CORP\svc-flowdesk$ (a gMSA, no password) or CORP\svc-flowdesk with
      -Credential: when the pool runs as that domain account instead.

.PARAMETER AppRoot
    The Flowdesk folder (flasky.py, .venv\). Example: C:\inetpub\flowdesk

.PARAMETER PoolName
    The application pool whose environment variables the task gets. Default: Flowdesk.

.PARAMETER Environment
    Extra or overriding settings for the task only, e.g. @{ INBOX_SETTLE_SECONDS = '120' }.

.PARAMETER ServiceAccount
    The account the task runs as. Default: NT AUTHORITY\NETWORK SERVICE.

.PARAMETER Credential
    The password of -ServiceAccount when it is an ordinary domain account (not a gMSA).

.PARAMETER TaskName
    Default: 'Flowdesk jobs' (in the folder \Flowdesk\).

.PARAMETER IntervalMinutes
    How often the task ticks. Default 1. Set JOBS_TICK_INTERVAL_SECONDS to match (in seconds)
    when changing it, or the admin pages will say the scheduler has stopped.

.EXAMPLE
    .\Register-FlowdeskJobs.ps1 -AppRoot C:\inetpub\flowdesk

.EXAMPLE
    .\Register-FlowdeskJobs.ps1 -AppRoot C:\inetpub\flowdesk -ServiceAccount 'CORP\svc-flowdesk$'
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string] $AppRoot,
    [string] $PoolName = 'Flowdesk',
    [hashtable] $Environment = @{},
    [string] $ServiceAccount = 'NT AUTHORITY\NETWORK SERVICE',
    [pscredential] $Credential = $null,
    [string] $TaskName = 'Flowdesk jobs',
    [int] $IntervalMinutes = 1
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$AppRoot = (Resolve-Path -LiteralPath $AppRoot).Path.TrimEnd('\')
$FlaskExe = Join-Path $AppRoot '.venv\Scripts\flask.exe'
$EnvFile = Join-Path $AppRoot '.env'
$LogFolder = Join-Path $AppRoot 'instance\logs'
$TaskPath = '\Flowdesk\'

function Write-Step([string] $Message) { Write-Host "[flowdesk-jobs] $Message" }

# -- 0. Preconditions ---------------------------------------------------------------------------
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (as Administrator).'
}
if (-not (Test-Path -LiteralPath $FlaskExe)) {
    throw "$FlaskExe is missing: create the virtual environment first (README 'Deploying to IIS')."
}
$isBuiltIn = $ServiceAccount -like 'NT AUTHORITY\*'
$isGmsa = $ServiceAccount.EndsWith('$')
if (-not $isBuiltIn -and -not $isGmsa -and $null -eq $Credential) {
    throw "-ServiceAccount $ServiceAccount is an ordinary account: give its password with -Credential (or use a gMSA, whose name ends in `$)."
}

# -- 1. The settings: the pool's environment variables, then -Environment -----------------------
$settings = [ordered]@{ FLASK_APP = 'flasky'; FLASK_CONFIG = 'production' }
$assembly = Join-Path $env:SystemRoot 'System32\inetsrv\Microsoft.Web.Administration.dll'
[void][System.Reflection.Assembly]::LoadFrom($assembly)
$manager = New-Object Microsoft.Web.Administration.ServerManager
$pool = $manager.ApplicationPools[$PoolName]
if ($null -eq $pool) { throw "There is no application pool ${PoolName}: run Install-Flowdesk.ps1 first." }
foreach ($element in $pool.GetCollection('environmentVariables')) {
    $settings[[string]$element['name']] = [string]$element['value']
}
foreach ($name in $Environment.Keys) { $settings[$name] = [string]$Environment[$name] }
Write-Step "Settings: $($settings.Count) from pool $PoolName and -Environment ($((@($settings.Keys) | Sort-Object) -join ', '))"

# -- 2. <AppRoot>\.env, readable by Administrators, SYSTEM and the task's account only ----------
$lines = foreach ($name in $settings.Keys) {
    $value = $settings[$name] -replace '\\', '\\' -replace '"', '\"'
    "$name=`"$value`""
}
$content = ($lines -join "`r`n") + "`r`n"
$current = if (Test-Path -LiteralPath $EnvFile) { [IO.File]::ReadAllText($EnvFile) } else { $null }
if ($current -ne $content) {
    [IO.File]::WriteAllText($EnvFile, $content, (New-Object Text.UTF8Encoding($false)))
    Write-Step "Settings file ${EnvFile}: written"
} else {
    Write-Step "Settings file ${EnvFile}: unchanged"
}
& icacls $EnvFile /inheritance:r /grant:r 'BUILTIN\Administrators:(F)' 'NT AUTHORITY\SYSTEM:(F)' "${ServiceAccount}:(R)" | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls $EnvFile failed with exit code $LASTEXITCODE" }
Write-Step "Settings file ${EnvFile}: readable by Administrators, SYSTEM and $ServiceAccount only"

# -- 3. The task's account can read the app, write its log and clean the kept uploads ------------
$UploadFolder = if ($settings.Contains('UPLOAD_FOLDER')) { $settings['UPLOAD_FOLDER'] } else { Join-Path $AppRoot 'instance\uploads' }
$grants = @(@($AppRoot, 'RX'), @($LogFolder, 'M'))
# On a share (\\files01\...) the task is the computer account or domain account: the share's
# own permissions apply there (docs\deploy-iis.md).
if (-not $UploadFolder.StartsWith('\\')) { $grants += , @($UploadFolder, 'M') }
foreach ($grant in $grants) {
    New-Item -ItemType Directory -Force -Path $grant[0] | Out-Null
    & icacls $grant[0] /grant "${ServiceAccount}:(OI)(CI)$($grant[1])" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls $($grant[0]) failed with exit code $LASTEXITCODE" }
    Write-Step "Permission $($grant[1]) on $($grant[0]) for ${ServiceAccount}: granted"
}

# -- 4. The task: every minute, one instance at a time -------------------------------------------
$action = New-ScheduledTaskAction -Execute $FlaskExe -Argument 'jobs run' -WorkingDirectory $AppRoot
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date).Date `
    -RepetitionInterval (New-TimeSpan -Minutes $IntervalMinutes)
# A tick that is still running when the next is due: the new one is skipped, never queued.
$taskSettings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable `
    -ExecutionTimeLimit (New-TimeSpan -Hours 2) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
$description = 'Flowdesk scheduled jobs (inbox folders, housekeeping): flask jobs run. ' +
    'Registered by scripts\iis\Register-FlowdeskJobs.ps1; see docs\deploy-iis.md.'
$existing = Get-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -ErrorAction SilentlyContinue
if ($null -ne $existing) {
    Unregister-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Confirm:$false
    Write-Step "Task $TaskPath${TaskName}: replaced"
}
if ($isBuiltIn) {
    $taskPrincipal = New-ScheduledTaskPrincipal -UserId $ServiceAccount -LogonType ServiceAccount -RunLevel Limited
    Register-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Action $action -Trigger $trigger `
        -Settings $taskSettings -Principal $taskPrincipal -Description $description | Out-Null
} elseif ($isGmsa) {
    $taskPrincipal = New-ScheduledTaskPrincipal -UserId $ServiceAccount -LogonType Password -RunLevel Limited
    Register-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Action $action -Trigger $trigger `
        -Settings $taskSettings -Principal $taskPrincipal -Description $description | Out-Null
} else {
    Register-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Action $action -Trigger $trigger `
        -Settings $taskSettings -User $ServiceAccount -Password $Credential.GetNetworkCredential().Password `
        -RunLevel Limited -Description $description | Out-Null
}
Write-Step "Task $TaskPath${TaskName}: every $IntervalMinutes min as $ServiceAccount, '$FlaskExe jobs run' in $AppRoot"

# -- 5. One tick now, to show it works ------------------------------------------------------------
Start-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath
Write-Step "Task started once. Check Admin > Scheduled jobs, or: Get-ScheduledTaskInfo -TaskName '$TaskName' -TaskPath '$TaskPath' (LastTaskResult 0 = every job ran or was skipped; 1 = a job failed)."
