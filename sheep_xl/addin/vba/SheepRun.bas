Attribute VB_Name = "SheepRun"
Option Explicit

' How the add-in runs Python, and what every entry point checks first.
'
' Nothing anyone typed or named (sheet names, file paths, buckets) is ever put on a command line.
' SheepRequest writes the action and its arguments to a small request file, one value a line as
' "x" and the hex of its UTF-16 code units (plain ASCII, which VBA's file I/O writes the same on
' Windows and Mac), then starts Python with a constant command naming only the file's id, which
' is hex digits:
'     import sheep_xl.excel.ribbon as sheep_ribbon; sheep_ribbon.run_request('1A2B...')
' Python (sheep_xl.excel.ribbon.run_request) reads the file, deletes it and runs the action.
'
' Every entry point (ribbon callback, event, OnTime macro) starts with "On Error GoTo failed" and
' ends in SheepFail: an error becomes one sentence, and Excel never offers "End", which would
' reset the project and with it the application-events sink that refreshes workbooks on open.

Public SheepApp As SheepEvents
Public SheepLastMessage As String  ' the last sentence shown to the user (for tests)
Public SheepQuiet As Boolean  ' SheepProbeRun (sheep-xl excel-check): no dialogs, only SheepLastMessage
Private RequestCount As Long

' What an action needs of the active workbook and sheet (SheepStart, SheepProblem)
Public Const NEED_NOTHING As Long = 0
Public Const NEED_WORKBOOK As Long = 1
Public Const NEED_NEW_SHEET As Long = 2
Public Const NEED_WORKSHEET As Long = 3
Public Const NEED_EDITABLE_SHEET As Long = 4

Public Const REQUEST_HEADER As String = "sheepcrm-request 1"

Public Function SheepStart(ByVal need As Long) As Boolean
    ' The start of every ribbon callback: events sink back if a reset lost it, our old status
    ' bar message gone, and one sentence (False) when the active workbook or sheet cannot do it.
    Dim problem As String
    SheepEnsureEvents
    SheepClearStatus
    problem = SheepProblem(need)
    If problem = "" Then
        SheepStart = True
    Else
        SheepLastMessage = problem
        If Not SheepQuiet Then MsgBox problem, vbInformation, "SheepCRM"
    End If
End Function

Public Sub SheepEnsureEvents()
    On Error Resume Next
    If SheepApp Is Nothing Then
        Set SheepApp = New SheepEvents
        Set SheepApp.App = Application
    End If
End Sub

Public Function SheepProblem(ByVal need As Long) As String
    ' "" when the active workbook and sheet can take an action that needs `need`, else why not.
    On Error GoTo failed
    If need = NEED_NOTHING Then Exit Function
    If ActiveWorkbook Is Nothing Then
        If InProtectedView() Then
            SheepProblem = "This file is open in Protected View: click Enable Editing, then try again."
        Else
            SheepProblem = "Open a workbook first: SheepCRM works on the active workbook."
        End If
        Exit Function
    End If
    If need = NEED_WORKBOOK Then Exit Function
    If need = NEED_NEW_SHEET Then
        If ActiveWorkbook.ProtectStructure Then SheepProblem = "This workbook is protected, so " _
            & "SheepCRM cannot add a sheet: unprotect it (Review > Protect Workbook) and try again."
        Exit Function
    End If
    If TypeName(ActiveSheet) <> "Worksheet" Then
        SheepProblem = "Select a worksheet first: SheepCRM cannot work on a " _
            & LCase$(TypeName(ActiveSheet)) & " sheet."
        Exit Function
    End If
    If need = NEED_EDITABLE_SHEET Then
        If ActiveSheet.ProtectContents Then
            SheepProblem = "This sheet is protected: unprotect it (Review > Unprotect Sheet) " _
                & "and try again."
        ElseIf ActiveCell Is Nothing Then
            SheepProblem = "Select a cell first."
        End If
    End If
    Exit Function
failed:
    SheepProblem = "SheepCRM cannot use the active workbook right now (" & Err.Description & ")."
End Function

Private Function InProtectedView() As Boolean
#If Mac Then
    InProtectedView = False
#Else
    On Error Resume Next
    InProtectedView = Not (Application.ActiveProtectedViewWindow Is Nothing)
#End If
End Function

Public Function SheepActiveWorkbook() As Workbook
    ' The active workbook, or Nothing (no workbook open, Protected View), without an error.
    On Error Resume Next
    Set SheepActiveWorkbook = ActiveWorkbook
End Function

Public Function SheepActiveFullName() As String
    ' For xlwings' GetConfig (build.py, XLWINGS_EDITS): "" when no workbook is active.
    On Error Resume Next
    If ActiveWorkbook Is Nothing Then Exit Function
    SheepActiveFullName = GetFullName(ActiveWorkbook)
End Function

Public Function SheepSetting(ByVal key As String, Optional ByVal default As String = "") As String
    ' A setting of the add-in (xlwings' layers: sheet, folder, user file), or `default`.
    On Error GoTo failed
    SheepSetting = CStr(GetConfig(key, default))
    Exit Function
failed:
    SheepSetting = default
End Function

' --- requests to Python ----------------------------------------------------------------------

Public Function HexText(ByVal text As String) As String
    ' The UTF-16 code units of text as hex, four digits each ("A" -> "0041").
    Dim i As Long, out As String
    out = ""
    For i = 1 To Len(text)
        out = out & Right$("000" & Hex$(AscW(Mid$(text, i, 1)) And &HFFFF&), 4)
    Next i
    HexText = out
End Function

Public Function RequestFolder() As String
#If Mac Then
    ' Excel's sandbox folder (~/Library/Containers/com.microsoft.Excel/Data): Excel may write
    ' there, and Python, started outside the sandbox, looks there.
    RequestFolder = Environ("HOME") & "/"
#Else
    RequestFolder = Environ("TEMP") & "\"
#End If
End Function

Public Function NewRequestId() As String
    RequestCount = RequestCount + 1
    Randomize
    NewRequestId = Right$("0000000" & Hex$(CLng(Timer * 100)), 8) _
        & Right$("000" & Hex$(RequestCount And &HFFFF&), 4) _
        & Right$("0000000" & Hex$(CLng(Rnd * 2147483646#)), 8)
End Function

Public Function RequestFileName(ByVal id As String) As String
    RequestFileName = "sheepcrm-request-" & id & ".txt"
End Function

Public Sub WriteRequest(ByVal path As String, ByVal action As String, ByVal Wb As Object, _
                        ByVal args As Variant)
    ' The request file: header, action, workbook full name and name ("x" alone: none), then one
    ' line per argument. args is an array of values (or Empty for none).
    Dim f As Integer, i As Long
    f = FreeFile
    Open path For Output As #f
    Print #f, REQUEST_HEADER
    Print #f, "x" & HexText(action)
    If Wb Is Nothing Then
        Print #f, "x"
        Print #f, "x"
    Else
        Print #f, "x" & HexText(Wb.FullName)
        Print #f, "x" & HexText(Wb.Name)
    End If
    If IsArray(args) Then
        For i = LBound(args) To UBound(args)
            Print #f, "x" & HexText(CStr(args(i)))
        Next i
    End If
    Close #f
End Sub

Public Sub SheepRequest(ByVal action As String, ByVal Wb As Object, ParamArray args() As Variant)
    ' Run sheep_xl.excel.ribbon's `action` in Python for workbook Wb (Nothing: none) with args.
    Dim id As String, values As Variant
    id = NewRequestId()
    values = args
    WriteRequest RequestFolder() & RequestFileName(id), action, Wb, values
    SheepRunPython "import sheep_xl.excel.ribbon as sheep_ribbon; sheep_ribbon.run_request('" _
        & id & "')"
End Sub

Private Sub SheepRunPython(ByVal command As String)
    ' xlwings' own runners, without RunPython's use of the active workbook: no workbook path on
    ' the command line (the PYTHONPATH part is constant) and no workbook needed at all.
    Dim interpreter As String, pythonPath As String
#If Mac Then
    interpreter = SheepSetting("INTERPRETER_MAC", "")
#Else
    interpreter = SheepSetting("INTERPRETER_WIN", "")
#End If
    If interpreter = "" Then interpreter = SheepSetting("INTERPRETER", "python")
    pythonPath = "false;;;;;"
#If Mac Then
    ExecuteMac command, interpreter, pythonPath
#Else
    ExecuteWindows False, command, interpreter, pythonPath
#End If
End Sub

' --- messages --------------------------------------------------------------------------------

Public Sub SheepStatus(ByVal text As String, Optional ByVal seconds As Long = 20)
    ' A status bar message that goes away by itself (and at the next SheepCRM action).
    On Error Resume Next
    Application.StatusBar = "SheepCRM: " & text
    Application.OnTime Now + TimeSerial(0, 0, seconds), "'" & ThisWorkbook.Name & "'!SheepClearStatus"
End Sub

Public Sub SheepClearStatus()
    ' OnTime, and the start of every action: give the status bar back to Excel if it still shows
    ' a message of ours (VBA's or Python's: they all start with "SheepCRM:").
    Dim shown As Variant
    On Error Resume Next
    shown = Application.StatusBar
    If VarType(shown) = vbString Then
        If Left$(CStr(shown), 9) = "SheepCRM:" Then Application.StatusBar = False
    End If
End Sub

Public Sub SheepFail(ByVal what As String, ByVal description As String, _
                     Optional ByVal quiet As Boolean = False)
    ' Where every entry point's error handler goes: one sentence, never a VBA error dialog.
    ' quiet (events while files open): on the status bar instead of a message box.
    Dim message As String
    On Error Resume Next
    message = what & " did not work: " & description
    SheepLastMessage = message
    If quiet Then
        SheepStatus message, 30
    ElseIf Not SheepQuiet Then
        MsgBox "SheepCRM: " & message, vbExclamation, "SheepCRM"
    End If
End Sub
