Attribute VB_Name = "SheepOnOpen"
Option Explicit

' Refresh on open. A workbook is refreshed when it carries the defined name
' SheepCRM_RefreshOnOpen = TRUE, unless the user turned the feature off (REFRESH_ON_OPEN = False
' in the add-in settings). The refresh runs just after Excel has finished opening the file.

Private PendingWorkbooks As Collection

Public Sub SheepOnWorkbookOpen(ByVal Wb As Workbook)
    If Wb.IsAddin Then Exit Sub
    If Not HasRefreshMarker(Wb) Then Exit Sub
    If LCase$(CStr(GetConfig("REFRESH_ON_OPEN", "True"))) = "false" Then Exit Sub
    If Wb.ReadOnly Then
        Application.StatusBar = "SheepCRM: " & Wb.Name & " is read-only, so it was not refreshed."
        Exit Sub
    End If
    If PendingWorkbooks Is Nothing Then Set PendingWorkbooks = New Collection
    PendingWorkbooks.Add Wb.FullName
    Application.OnTime Now, "'" & ThisWorkbook.Name & "'!SheepRunPendingRefresh"
End Sub

Private Function HasRefreshMarker(ByVal Wb As Workbook) As Boolean
    Dim marker As String
    On Error GoTo NoMarker
    marker = Wb.Names("SheepCRM_RefreshOnOpen").RefersTo
    HasRefreshMarker = (UCase$(Replace(marker, " ", "")) = "=TRUE")
    Exit Function
NoMarker:
    HasRefreshMarker = False
End Function

Public Sub SheepRunPendingRefresh()
    Dim fullName As String
    If PendingWorkbooks Is Nothing Then Exit Sub
    Do While PendingWorkbooks.Count > 0
        fullName = PendingWorkbooks(1)
        PendingWorkbooks.Remove 1
        RunSheep "refresh_on_open(" & PyStr(fullName) & ")"
    Loop
End Sub

Public Function PyStr(ByVal text As String) As String
    ' Text as a Python string literal, for the command line RunPython builds.
    text = Replace(text, "\", "\\")
    text = Replace(text, "'", "\'")
    text = Replace(text, """", "\x22")
    text = Replace(text, vbCr, "\r")
    text = Replace(text, vbLf, "\n")
    PyStr = "'" & text & "'"
End Function

Public Sub RunSheep(ByVal pythonCall As String)
    ' Every button and event runs one function of sheep_xl.excel.ribbon in Python.
    RunPython "import sheep_xl.excel.ribbon as sheep_ribbon; sheep_ribbon." & pythonCall
End Sub
