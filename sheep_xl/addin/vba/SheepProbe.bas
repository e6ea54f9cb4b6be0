Attribute VB_Name = "SheepProbe"
Option Explicit

' For `sheep-xl excel-check` (sheep_xl.acceptance), which drives a hidden Excel and cannot click
' buttons or answer dialogs. Nothing here runs unless the kit calls it with Application.Run.
'
' SheepProbe proves the add-in loaded and its VBA project compiled: VBA compiles a module when
' one of its procedures is first called, and SheepProbeRun below names every ribbon callback, so
' a callback missing from the project is a compile error here rather than a dead button later.

Public Function SheepProbe() As String
    ' The sheep-xl version the add-in was built by (its custom document property).
    On Error GoTo failed
    SheepProbe = CStr(ThisWorkbook.CustomDocumentProperties("sheep-xl version").Value)
    Exit Function
failed:
    SheepProbe = "error: " & Err.Description
End Function

Public Function SheepProbeCallbacks() As String
    ' The ribbon callbacks SheepProbeRun can run: the kit compares them with customUI14.xml.
    SheepProbeCallbacks = "SheepRefreshAll,SheepRefreshSheet,SheepToggleRefreshOnOpen," _
        & "SheepInsertTable,SheepInsertFormula,SheepAttendees,SheepOrders,SheepTickets," _
        & "SheepSignIn,SheepSignOut,SheepDiagnostics"
End Function

Public Function SheepProbeRun(ByVal callback As String) As String
    ' Run one ribbon callback as a click does (the callbacks never read their control), with
    ' the add-in's own messages kept in SheepLastMessage instead of a dialog nobody could close,
    ' and return that message ("" when nothing was said).
    On Error GoTo failed
    SheepQuiet = True
    SheepLastMessage = ""
    Select Case callback
        Case "SheepRefreshAll": SheepRefreshAll Nothing
        Case "SheepRefreshSheet": SheepRefreshSheet Nothing
        Case "SheepToggleRefreshOnOpen": SheepToggleRefreshOnOpen Nothing
        Case "SheepInsertTable": SheepInsertTable Nothing
        Case "SheepInsertFormula": SheepInsertFormula Nothing
        Case "SheepAttendees": SheepAttendees Nothing
        Case "SheepOrders": SheepOrders Nothing
        Case "SheepTickets": SheepTickets Nothing
        Case "SheepSignIn": SheepSignIn Nothing
        Case "SheepSignOut": SheepSignOut Nothing
        Case "SheepDiagnostics": SheepDiagnostics Nothing
        Case Else: SheepLastMessage = "unknown callback " & callback
    End Select
    SheepQuiet = False
    SheepProbeRun = SheepLastMessage
    Exit Function
failed:
    SheepQuiet = False
    SheepProbeRun = "error: " & Err.Description
End Function

Public Function SheepProbeRequest(ByVal action As String, ByVal bookName As String, _
                                  ByVal arg1 As String, ByVal arg2 As String, _
                                  ByVal arg3 As String) As String
    ' Run one action of sheep_xl.excel.ribbon for an open workbook without its dialog (Insert
    ' events asks a person; the kit asks for insert_table directly), through the same request
    ' file and RunPython path as a button.
    On Error GoTo failed
    SheepRequest action, Application.Workbooks(bookName), arg1, arg2, arg3
    Exit Function
failed:
    SheepProbeRequest = "error: " & Err.Description
End Function

Public Function SheepProbeSetEnv(ByVal varName As String, ByVal varValue As String) As String
    ' Set a variable in this Excel's environment, which the processes it starts inherit (the
    ' worksheet functions' Python and RunPython): the kit points them at its demo server. An
    ' Excel started over COM does not inherit the kit's own environment. Windows only (the
    ' worksheet functions are Windows only); WScript.Shell changes the process it runs in.
    On Error GoTo failed
#If Mac Then
    SheepProbeSetEnv = "error: not on a Mac"
#Else
    CreateObject("WScript.Shell").Environment("Process")(varName) = varValue
#End If
    Exit Function
failed:
    SheepProbeSetEnv = "error: " & Err.Description
End Function
