Attribute VB_Name = "SheepRibbon"
Option Explicit

' Callbacks of the SheepCRM ribbon tab (customUI14.xml). Each one checks what it needs of the
' active workbook and sheet (SheepStart: one sentence if something is missing), then runs a thin
' Python entry point of sheep_xl.excel.ribbon through a request file (SheepRequest). The API key
' never passes through VBA, and an error is one sentence (SheepFail), never a reset.

Public Sub SheepRefreshAll(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_WORKBOOK) Then Exit Sub
    SheepRequest "refresh_all", ActiveWorkbook
#If Not Mac Then
    ' The refresh told the worksheet functions to fetch again; recalculate them now.
    Application.CalculateFull
#End If
    Exit Sub
failed:
    SheepFail "Refresh all", Err.Description
End Sub

Public Sub SheepRefreshSheet(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_EDITABLE_SHEET) Then Exit Sub
    SheepRequest "refresh_sheet", ActiveWorkbook, ActiveSheet.Name
    Exit Sub
failed:
    SheepFail "Refresh this sheet", Err.Description
End Sub

Public Sub SheepToggleRefreshOnOpen(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_WORKBOOK) Then Exit Sub
    SheepRequest "toggle_refresh_on_open", ActiveWorkbook
    Exit Sub
failed:
    SheepFail "Refresh on open on/off", Err.Description
End Sub

Public Sub SheepInsertTable(control As IRibbonControl)
    ' Python's Insert events dialog asks what to fetch; a table goes on a new sheet.
    On Error GoTo failed
    If Not SheepStart(NEED_NEW_SHEET) Then Exit Sub
    SheepRequest "insert_dialog", ActiveWorkbook, "table", ActiveSheetName(), ActiveCellAddress()
    Exit Sub
failed:
    SheepFail "Events table", Err.Description
End Sub

Public Sub SheepInsertFormula(control As IRibbonControl)
    ' The same dialog; a live formula goes at the active cell.
    On Error GoTo failed
    If Not SheepStart(NEED_EDITABLE_SHEET) Then Exit Sub
    SheepRequest "insert_dialog", ActiveWorkbook, "formula", ActiveSheet.Name, _
        ActiveCell.Address(False, False)
    Exit Sub
failed:
    SheepFail "Live formula", Err.Description
End Sub

Public Sub SheepAttendees(control As IRibbonControl)
    ' Inside the event: the event of the selected row of an events table.
    On Error GoTo failed
    If Not SheepStart(NEED_NEW_SHEET) Then Exit Sub
    SheepEventPart "attendees"
    Exit Sub
failed:
    SheepFail "Attendees", Err.Description
End Sub

Public Sub SheepOrders(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_NEW_SHEET) Then Exit Sub
    SheepEventPart "orders"
    Exit Sub
failed:
    SheepFail "Orders", Err.Description
End Sub

Public Sub SheepTickets(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_NEW_SHEET) Then Exit Sub
    SheepEventPart "tickets"
    Exit Sub
failed:
    SheepFail "Tickets", Err.Description
End Sub

Private Sub SheepEventPart(ByVal part As String)
    ' A new sheet for the part (SheepStart checked it can be added); Python reads the selected
    ' row (sheet and cell) to find the event.
    SheepRequest "insert_event_part", ActiveWorkbook, part, SelectedSheetName(), _
        SelectedCellAddress()
End Sub

Public Sub SheepSignIn(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_NOTHING) Then Exit Sub
    SheepRequest "sign_in", SheepActiveWorkbook()
    Exit Sub
failed:
    SheepFail "Sign in", Err.Description
End Sub

Public Sub SheepSignOut(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_NOTHING) Then Exit Sub
    SheepRequest "sign_out", SheepActiveWorkbook()
    Exit Sub
failed:
    SheepFail "Sign out", Err.Description
End Sub

Public Sub SheepDiagnostics(control As IRibbonControl)
    On Error GoTo failed
    If Not SheepStart(NEED_NOTHING) Then Exit Sub
    SheepRequest "diagnostics", SheepActiveWorkbook()
    Exit Sub
failed:
    SheepFail "Test connection", Err.Description
End Sub

Private Function ActiveSheetName() As String
    ' For the dialog's "at the active cell" choice: "" unless the active sheet is an
    ' unprotected worksheet.
    On Error Resume Next
    If SheepProblem(NEED_EDITABLE_SHEET) = "" Then ActiveSheetName = ActiveSheet.Name
End Function

Private Function SelectedSheetName() As String
    ' The selected row may be on a protected sheet: it is only read. "" on a chart sheet.
    On Error Resume Next
    If TypeName(ActiveSheet) = "Worksheet" Then SelectedSheetName = ActiveSheet.Name
End Function

Private Function SelectedCellAddress() As String
    On Error Resume Next
    If TypeName(ActiveSheet) = "Worksheet" Then SelectedCellAddress = ActiveCell.Address(False, False)
End Function

Private Function ActiveCellAddress() As String
    On Error Resume Next
    If SheepProblem(NEED_EDITABLE_SHEET) = "" Then ActiveCellAddress = ActiveCell.Address(False, False)
End Function
