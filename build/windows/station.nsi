; The station's Windows installer (NSIS 3, Unicode, 64-bit), built by `build/package nsis`.
;
;   makensis -DVERSION=0.1.0 -DBUNDLE_DIR=<PyInstaller folder> -DOUTFILE=<setup.exe> station.nsi
;
; Per-machine install into Program Files (administrator rights), Start-menu shortcuts for all users,
; uninstaller registered under Add/Remove Programs. Silent: `setup.exe /S [/ENROLL=<file>] [/D=<dir>]`
; (/D last, no quotes); `uninstall.exe /S [/PURGE]`.
;
; The county enrollment file: `/ENROLL=<file>`, or `enrollment.json` next to setup.exe, is copied to
; %ProgramData%\CaptureStation\enrollment\enrollment.json for the first-run wizard; that folder is
; readable only by Administrators, SYSTEM and (read + delete, so the wizard can remove the file after
; importing it, as `station enroll --remove-file` does) local Users. The file holds the station's
; private key: the wizard imports it into the encrypted store and deletes it. Uninstall keeps
; %ProgramData%\CaptureStation unless /PURGE is given. The installer never changes system services.

Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel admin
ManifestDPIAware true

!ifndef VERSION
  !error "define VERSION (the station's version), e.g. -DVERSION=0.1.0"
!endif
!ifndef BUNDLE_DIR
  !error "define BUNDLE_DIR (the PyInstaller one-folder output holding station.exe)"
!endif
!ifndef OUTFILE
  !define OUTFILE "station-${VERSION}-setup.exe"
!endif
!ifndef VERSION_QUAD
  !define VERSION_QUAD "${VERSION}.0"
!endif
!ifndef ICON
  !define ICON "${BUNDLE_DIR}\_internal\resources\icons\station.ico"
!endif

!define APP_ID "cn.zsks.nm.capturestation"
!define APP_NAME "考籍注册采集站"
!define APP_DIR "CaptureStation"
!define PUBLISHER "内蒙古教育招生考试中心"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define DATA_DIR "$APPDATA\${APP_DIR}"  ; $APPDATA is ProgramData under SetShellVarContext all
!define ENROLL_DIR "${DATA_DIR}\enrollment"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "WinVer.nsh"
!include "x64.nsh"

Name "${APP_NAME}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_DIR}"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${APP_NAME} ${VERSION}"

; Windows version resource of setup.exe (NSIS wants four numbers).
VIProductVersion "${VERSION_QUAD}"
VIAddVersionKey /LANG=2052 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=2052 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=2052 "FileDescription" "${APP_NAME} 安装程序"
VIAddVersionKey /LANG=2052 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=2052 "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString NeedsWin10 2052 "本程序需要 64 位 Windows 10（1809 版）或更新版本。"
LangString NeedsWin10 1033 "This program needs 64-bit Windows 10 (version 1809) or later."
LangString NoEnrollment 2052 "登记文件 $0 无法读取，安装后可在首次运行时选择登记文件。"
LangString NoEnrollment 1033 "The enrollment file $0 cannot be read; choose it in the first-run wizard."

Function .onInit
  SetShellVarContext all
  SetRegView 64
  ${IfNot} ${RunningX64}
  ${OrIfNot} ${AtLeastBuild} 17763
    IfSilent +2
      MessageBox MB_ICONSTOP "$(NeedsWin10)"
    SetErrorLevel 2
    Abort
  ${EndIf}
FunctionEnd

Section "install"
  SetOutPath "$INSTDIR"
  ; Never mix two PyInstaller builds: the previous version's libraries go first.
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE_DIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\stationw.exe" "gui" "$INSTDIR\stationw.exe" 0
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\培训演示.lnk" "$INSTDIR\stationw.exe" "demo" "$INSTDIR\stationw.exe" 0

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\station.exe,0"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" "$0"

  Call StageEnrollment
SectionEnd

; /ENROLL=<file> or enrollment.json beside setup.exe -> the wizard's known place.
Function StageEnrollment
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/ENROLL=" $0
  ${If} ${Errors}
    StrCpy $0 "$EXEDIR\enrollment.json"
    IfFileExists "$0" 0 done
  ${EndIf}
  ; GetOptions keeps surrounding quotes of /ENROLL="C:\a b\x.json".
  StrCpy $1 $0 1
  ${If} $1 == '"'
    StrCpy $0 $0 "" 1
    StrCpy $0 $0 -1
  ${EndIf}
  CreateDirectory "${ENROLL_DIR}"
  ; Administrators and SYSTEM: full control; Users: read and delete; nothing inherited.
  nsExec::ExecToLog 'icacls "${ENROLL_DIR}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)(GR,GE,DE)'
  Pop $1
  ClearErrors
  CopyFiles /SILENT "$0" "${ENROLL_DIR}\enrollment.json"
  ${If} ${Errors}
    IfSilent +2
      MessageBox MB_ICONEXCLAMATION "$(NoEnrollment)"
  ${EndIf}
  done:
FunctionEnd

Function un.onInit
  SetShellVarContext all
  SetRegView 64
FunctionEnd

Section "uninstall"
  RMDir /r "$SMPROGRAMS\${APP_NAME}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\station.exe"
  Delete "$INSTDIR\stationw.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  ; Officers' station data lives in their own profiles and is never touched here.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $0
  ${IfNot} ${Errors}
    RMDir /r "${DATA_DIR}"
  ${EndIf}
SectionEnd
