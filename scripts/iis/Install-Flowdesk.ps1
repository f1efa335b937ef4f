<#
.SYNOPSIS
    Installs (or brings up to date) Flowdesk on IIS with wfastcgi and Windows Authentication.

.DESCRIPTION
    Run as Administrator on the web server, after copying Flowdesk to -AppRoot and creating its
    virtual environment there (py -3.11 -m venv .venv; .venv\Scripts\pip install -r
    requirements.txt). Every step checks the current state first and changes only what differs,
    so the script can be run again after each deployment. It prints one line per step: what it
    found and what it did.

    Steps: IIS features (CGI, Windows Authentication, static content); unlock the configuration
    sections web.config sets; register wfastcgi as a FastCGI application (wfastcgi-enable) and set
    its timeouts and stderrMode; the application pool (No Managed Code) with environment
    variables; the site and application; the /static virtual directory onto app\static; the paths
    in web.config; folder permissions for the pool identity.

.PARAMETER AppRoot
    The folder holding Flowdesk (web.config, flasky.py, app\, .venv\). Example: C:\inetpub\flowdesk

.PARAMETER SiteName
    The IIS site. Created (HTTP on -Port) when it does not exist; bind its HTTPS certificate in
    IIS Manager. Default: 'Default Web Site'.

.PARAMETER AppPath
    Where Flowdesk lives in the site: '/flowdesk' (default) or '/' for the site root.

.PARAMETER PoolName
    The application pool; its identity is IIS AppPool\<PoolName>. Default: Flowdesk.

.PARAMETER PoolEnvironment
    Environment variables for the pool (secrets and database settings), e.g.
    @{ SECRET_KEY = '<64 random hex>'; MSSQL_SERVER = 'sql01.corp.example'; MSSQL_DATABASE = 'Flowdesk';
       APP_SCHEMA = 'dbo'; OPS_SCHEMA = 'ops'; FLOWDESK_ADMINS = 'CORP\jdoe' }
    Existing variables with other names are left alone; values given here replace old ones.

.PARAMETER UploadFolder
    Where uploads wait to be loaded (UPLOAD_FOLDER); default <AppRoot>\instance\uploads. In a
    farm, a share (\\files01\flowdesk-uploads): grant the servers' computer accounts modify there.

.PARAMETER RequestTimeoutSeconds
    FastCGI request timeout; a large upload is loaded inside the request. Default 900.

.PARAMETER Port
    HTTP port for a site this script creates. Default 80.

.EXAMPLE
    .\Install-Flowdesk.ps1 -AppRoot C:\inetpub\flowdesk -AppPath /flowdesk `
        -PoolEnvironment @{ SECRET_KEY = $key; MSSQL_SERVER = 'sql01'; MSSQL_DATABASE = 'Flowdesk' }
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string] $AppRoot,
    [string] $SiteName = 'Default Web Site',
    [string] $AppPath = '/flowdesk',
    [string] $PoolName = 'Flowdesk',
    [hashtable] $PoolEnvironment = @{},
    [string] $UploadFolder = '',
    [int] $RequestTimeoutSeconds = 900,
    [int] $Port = 80
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$AppRoot = (Resolve-Path -LiteralPath $AppRoot).Path.TrimEnd('\')
$PythonExe = Join-Path $AppRoot '.venv\Scripts\python.exe'
$WfastcgiScript = Join-Path $AppRoot '.venv\Lib\site-packages\wfastcgi.py'
$WfastcgiEnable = Join-Path $AppRoot '.venv\Scripts\wfastcgi-enable.exe'
$StaticFolder = Join-Path $AppRoot 'app\static'
$InstanceFolder = Join-Path $AppRoot 'instance'
$LogFolder = Join-Path $InstanceFolder 'logs'
if (-not $UploadFolder) { $UploadFolder = Join-Path $InstanceFolder 'uploads' }
if (-not $AppPath.StartsWith('/')) { $AppPath = '/' + $AppPath }
if ($AppPath.Length -gt 1) { $AppPath = $AppPath.TrimEnd('/') }
$PoolIdentity = "IIS AppPool\$PoolName"
$AppCmd = Join-Path $env:SystemRoot 'System32\inetsrv\appcmd.exe'
$Placeholder = 'C:\inetpub\flowdesk'

function Write-Step([string] $Message) { Write-Host "[flowdesk] $Message" }

function Invoke-AppCmd([string[]] $Arguments) {
    $output = & $AppCmd @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "appcmd $($Arguments -join ' ') failed with exit code ${LASTEXITCODE}: $output"
    }
    return $output
}

function Get-ServerManager {
    # A fresh ServerManager per step: appcmd and earlier steps may have changed the files.
    $assembly = Join-Path $env:SystemRoot 'System32\inetsrv\Microsoft.Web.Administration.dll'
    [void][System.Reflection.Assembly]::LoadFrom($assembly)
    return New-Object Microsoft.Web.Administration.ServerManager
}

# -- 0. Preconditions ---------------------------------------------------------------------------
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (Run as Administrator).'
}
foreach ($required in @((Join-Path $AppRoot 'web.config'), (Join-Path $AppRoot 'flasky.py'), $PythonExe, $WfastcgiScript)) {
    if (-not (Test-Path -LiteralPath $required)) {
        throw "$required is missing: copy Flowdesk to $AppRoot and create its virtual environment " +
              "(py -3.11 -m venv .venv; .venv\Scripts\pip install -r requirements.txt) first."
    }
}
Write-Step "Flowdesk folder $AppRoot, Python $PythonExe"

# -- 0b. Time zone database ---------------------------------------------------------------------
# Windows has no IANA time zone database of its own: Python's zoneinfo reads the tzdata package
# (pinned in requirements.txt). Without it every page that shows a time answers 500.
function Invoke-Python([string[]] $Arguments) {
    # Python's traceback arrives on stderr; with 'Stop', PowerShell would turn its first line
    # into an exception before the exit code could be read.
    $previous = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try { $output = & $PythonExe @Arguments 2>&1 | Out-String }
    finally { $ErrorActionPreference = $previous }
    return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = "$output".Trim() }
}
$ZoneCheck = "import zoneinfo; zoneinfo.ZoneInfo('Europe/Berlin')"
$zoneResult = Invoke-Python @('-c', $ZoneCheck)
if ($zoneResult.ExitCode -ne 0) {
    throw ("Python in $AppRoot\.venv cannot find the time zone database: zoneinfo.ZoneInfo('Europe/Berlin') " +
           "failed ($($zoneResult.Output)). Windows has none of its own and Python reads it from the tzdata " +
           "package. Run $AppRoot\.venv\Scripts\pip install -r requirements.txt (it pins tzdata), then run " +
           "this script again.")
}
Write-Step "Time zone database: found (the tzdata package)"
foreach ($setting in @('DISPLAY_TIMEZONE', 'DATA_TIMEZONE')) {
    if (-not $PoolEnvironment.ContainsKey($setting)) { continue }
    $zone = [string] $PoolEnvironment[$setting]
    $result = Invoke-Python @('-c', 'import sys, zoneinfo; zoneinfo.ZoneInfo(sys.argv[1])', $zone)
    if ($result.ExitCode -ne 0) {
        throw ("$setting = '$zone' is not a time zone Python knows: use an IANA name such as " +
               "Europe/Berlin or UTC ($($result.Output)).")
    }
    Write-Step "${setting}: $zone is a known time zone"
}

# -- 1. IIS features ----------------------------------------------------------------------------
$serverFeatures = @('Web-Server', 'Web-CGI', 'Web-Windows-Auth', 'Web-Static-Content',
                    'Web-Http-Errors', 'Web-Http-Logging', 'Web-Request-Monitor', 'Web-Filtering',
                    'Web-Mgmt-Console')
$clientFeatures = @('IIS-WebServerRole', 'IIS-WebServer', 'IIS-CGI', 'IIS-WindowsAuthentication',
                    'IIS-StaticContent', 'IIS-HttpErrors', 'IIS-HttpLogging', 'IIS-RequestMonitor',
                    'IIS-RequestFiltering', 'IIS-ManagementConsole')
if (Get-Command Install-WindowsFeature -ErrorAction SilentlyContinue) {
    foreach ($feature in $serverFeatures) {
        if ((Get-WindowsFeature -Name $feature).Installed) {
            Write-Step "IIS feature ${feature}: already installed"
        } else {
            [void](Install-WindowsFeature -Name $feature)
            Write-Step "IIS feature ${feature}: installed"
        }
    }
} else {
    foreach ($feature in $clientFeatures) {
        if ((Get-WindowsOptionalFeature -Online -FeatureName $feature).State -eq 'Enabled') {
            Write-Step "Windows feature ${feature}: already enabled"
        } else {
            [void](Enable-WindowsOptionalFeature -Online -FeatureName $feature -All -NoRestart)
            Write-Step "Windows feature ${feature}: enabled"
        }
    }
}

# -- 2. Unlock the sections Flowdesk's web.config sets ------------------------------------------
$sections = @('system.webServer/handlers',
              'system.webServer/security/authentication/windowsAuthentication',
              'system.webServer/security/authentication/anonymousAuthentication')
foreach ($sectionPath in $sections) {
    $manager = Get-ServerManager
    $section = $manager.GetApplicationHostConfiguration().GetSection($sectionPath)
    if ($section.OverrideModeEffective -eq 'Allow') {
        Write-Step "Section ${sectionPath}: already unlocked"
    } else {
        [void](Invoke-AppCmd @('unlock', 'config', "-section:$sectionPath"))
        Write-Step "Section ${sectionPath}: unlocked (appcmd unlock config)"
    }
}

# -- 3. wfastcgi as a FastCGI application -------------------------------------------------------
function Find-FastCgiApplication {
    $collection = (Get-ServerManager).GetApplicationHostConfiguration().GetSection('system.webServer/fastCgi').GetCollection()
    foreach ($element in $collection) {
        if ($element['fullPath'].Trim('"') -eq $PythonExe -and $element['arguments'].Trim('"') -eq $WfastcgiScript) {
            return $element
        }
    }
    return $null
}
if (Find-FastCgiApplication) {
    Write-Step "FastCGI application $PythonExe|${WfastcgiScript}: already registered"
} else {
    & $WfastcgiEnable
    if ($LASTEXITCODE -ne 0) { throw "wfastcgi-enable failed with exit code $LASTEXITCODE" }
    Write-Step "FastCGI application $PythonExe|${WfastcgiScript}: registered (wfastcgi-enable)"
}
$fastCgi = Find-FastCgiApplication
if ($null -eq $fastCgi) {
    throw "wfastcgi-enable ran but no FastCGI application $PythonExe|$WfastcgiScript is registered: check system.webServer/fastCgi in applicationHost.config."
}
$quotedPython = $fastCgi['fullPath']
$quotedScript = $fastCgi['arguments']
# stderrMode: IIS's default returns what wfastcgi writes to stderr (tracebacks) as the error page.
$fastCgiSettings = [ordered]@{
    stderrMode = 'ReturnGeneric500'
    requestTimeout = [string]$RequestTimeoutSeconds
    activityTimeout = [string]$RequestTimeoutSeconds
    instanceMaxRequests = '10000'
}
foreach ($name in $fastCgiSettings.Keys) {
    $wanted = $fastCgiSettings[$name]
    $current = [string](Find-FastCgiApplication)[$name]
    if ($current -eq $wanted) {
        Write-Step "FastCGI ${name}: already $wanted"
    } else {
        [void](Invoke-AppCmd @('set', 'config', '-section:system.webServer/fastCgi',
            "/[fullPath='$quotedPython',arguments='$quotedScript'].${name}:$wanted", '/commit:apphost'))
        Write-Step "FastCGI ${name}: $current -> $wanted"
    }
}

# -- 4. Application pool ------------------------------------------------------------------------
$manager = Get-ServerManager
$pool = $manager.ApplicationPools[$PoolName]
if ($null -eq $pool) {
    $pool = $manager.ApplicationPools.Add($PoolName)
    Write-Step "Application pool ${PoolName}: created"
} else {
    Write-Step "Application pool ${PoolName}: exists"
}
if ($pool.ManagedRuntimeVersion -ne '') {
    $pool.ManagedRuntimeVersion = ''   # "No Managed Code": Python does the work, not .NET
    Write-Step "Application pool ${PoolName}: set to No Managed Code"
}
if ($pool.ProcessModel.IdentityType -ne 'ApplicationPoolIdentity') {
    $pool.ProcessModel.IdentityType = 'ApplicationPoolIdentity'
    Write-Step "Application pool ${PoolName}: identity set to $PoolIdentity"
}
$variables = $pool.GetCollection('environmentVariables')
foreach ($name in $PoolEnvironment.Keys) {
    $value = [string]$PoolEnvironment[$name]
    $existing = $null
    foreach ($element in $variables) { if ($element['name'] -eq $name) { $existing = $element } }
    if ($null -eq $existing) {
        $element = $variables.CreateElement('add')
        $element['name'] = $name
        $element['value'] = $value
        [void]$variables.Add($element)
        Write-Step "Pool environment ${name}: added"
    } elseif ($existing['value'] -ne $value) {
        $existing['value'] = $value
        Write-Step "Pool environment ${name}: changed"
    } else {
        Write-Step "Pool environment ${name}: unchanged"
    }
}
$manager.CommitChanges()

# -- 5. Site, application and the /static virtual directory -------------------------------------
$manager = Get-ServerManager
$site = $manager.Sites[$SiteName]
if ($null -eq $site) {
    $sitePath = if ($AppPath -eq '/') { $AppRoot } else { Join-Path $env:SystemDrive 'inetpub\wwwroot' }
    $site = $manager.Sites.Add($SiteName, 'http', "*:${Port}:", $sitePath)
    Write-Step "Site ${SiteName}: created on HTTP port $Port (add the HTTPS binding and certificate in IIS Manager)"
} else {
    Write-Step "Site ${SiteName}: exists"
}
$application = $site.Applications[$AppPath]
if ($null -eq $application) {
    $application = $site.Applications.Add($AppPath, $AppRoot)
    Write-Step "Application ${SiteName}${AppPath}: created at $AppRoot"
} elseif ($application.VirtualDirectories['/'].PhysicalPath -ne $AppRoot) {
    $application.VirtualDirectories['/'].PhysicalPath = $AppRoot
    Write-Step "Application ${SiteName}${AppPath}: physical path set to $AppRoot"
} else {
    Write-Step "Application ${SiteName}${AppPath}: exists at $AppRoot"
}
if ($application.ApplicationPoolName -ne $PoolName) {
    $application.ApplicationPoolName = $PoolName
    Write-Step "Application ${SiteName}${AppPath}: runs in pool $PoolName"
}
$StaticFolder = Join-Path $AppRoot 'app\static'
$static = $application.VirtualDirectories['/static']
if ($null -eq $static) {
    [void]$application.VirtualDirectories.Add('/static', $StaticFolder)
    Write-Step "Virtual directory /static: created onto $StaticFolder (IIS serves it directly)"
} elseif ($static.PhysicalPath -ne $StaticFolder) {
    $static.PhysicalPath = $StaticFolder
    Write-Step "Virtual directory /static: now onto $StaticFolder"
} else {
    Write-Step "Virtual directory /static: already onto $StaticFolder"
}
$manager.CommitChanges()

# -- 6. Paths in web.config ---------------------------------------------------------------------
$webConfigPath = Join-Path $AppRoot 'web.config'
$original = [System.IO.File]::ReadAllText($webConfigPath)
$webConfig = New-Object System.Xml.XmlDocument
$webConfig.PreserveWhitespace = $true
$webConfig.LoadXml($original)
$handler = $webConfig.SelectSingleNode("/configuration/system.webServer/handlers/add[@name='Flowdesk']")
$handler.SetAttribute('scriptProcessor', "$PythonExe|$WfastcgiScript")
$settings = $webConfig.SelectSingleNode('/configuration/appSettings')
function Set-AppSetting([string] $Key, [string] $Value) {
    $node = $settings.SelectSingleNode("add[@key='$Key']")
    if ($null -eq $node) {
        $node = $webConfig.CreateElement('add')
        $node.SetAttribute('key', $Key)
        [void]$settings.AppendChild($node)
    }
    $node.SetAttribute('value', $Value)
}
Set-AppSetting 'PYTHONPATH' $AppRoot
Set-AppSetting 'WSGI_LOG' (Join-Path $LogFolder 'wfastcgi.log')
if ($AppPath -ne '/') {
    Set-AppSetting 'SCRIPT_NAME' $AppPath   # wfastcgi splits IIS's full URL path at this prefix
} else {
    $scriptName = $settings.SelectSingleNode("add[@key='SCRIPT_NAME']")
    if ($null -ne $scriptName) { [void]$settings.RemoveChild($scriptName) }
}
$updated = $webConfig.OuterXml
if ($updated -ne $original) {
    $encoding = New-Object System.Text.UTF8Encoding($false)
    [System.IO.File]::WriteAllText($webConfigPath, $updated, $encoding)
    Write-Step "web.config: paths set for $AppRoot (was $Placeholder or older values)"
} else {
    Write-Step 'web.config: paths already right'
}

# -- 7. Folders and permissions for the pool identity -------------------------------------------
foreach ($folder in @($InstanceFolder, $LogFolder, $UploadFolder)) {
    if (-not (Test-Path -LiteralPath $folder)) {
        [void](New-Item -ItemType Directory -Path $folder)
        Write-Step "Folder ${folder}: created"
    }
}
function Grant-FolderRight([string] $Folder, [string] $Right, [string] $Label) {
    $rights = [System.Security.AccessControl.FileSystemRights]$Right
    $granted = (Get-Acl -LiteralPath $Folder).Access | Where-Object {
        $_.IdentityReference.Value -eq $PoolIdentity -and
        $_.AccessControlType -eq 'Allow' -and
        (($_.FileSystemRights -band $rights) -eq $rights)
    }
    if ($granted) {
        Write-Step "Permission ${Label} on ${Folder} for ${PoolIdentity}: already granted"
        return
    }
    $flag = if ($Right -eq 'Modify') { 'M' } else { 'RX' }
    & icacls $Folder /grant "${PoolIdentity}:(OI)(CI)$flag" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls $Folder failed with exit code $LASTEXITCODE" }
    Write-Step "Permission ${Label} on ${Folder} for ${PoolIdentity}: granted (icacls)"
}
Grant-FolderRight $AppRoot 'ReadAndExecute' 'read'
foreach ($folder in @($InstanceFolder, $LogFolder, $UploadFolder)) {
    Grant-FolderRight $folder 'Modify' 'modify'
}

Write-Step "Done. Check https://<server>$(if ($AppPath -ne '/') { $AppPath })/healthz (databases) and /whoami (your Windows login)."
