Attribute VB_Name = "SheepOnOpen"
Option Explicit

' Refresh on open. A workbook is refreshed when it carries the defined name
' SheepCRM_RefreshOnOpen = TRUE, unless the user turned the feature off (REFRESH_ON_OPEN = False
' in the add-in settings). The refresh runs just after Excel has finished opening the file.
' Workbooks that were already open when the add-in loaded get the same treatment
' (SheepRefreshOpenWorkbooks, from ThisWorkbook's Workbook_Open).

Private PendingWorkbooks As Collection

Public Sub SheepOnWorkbookOpen(ByVal Wb As Workbook)
    ' App_WorkbookOpen and SheepRefreshOpenWorkbooks: queue a marked workbook for its refresh.
    On Error GoTo failed
    If Wb Is Nothing Then Exit Sub
    If Wb.IsAddin Then Exit Sub
    If Wb Is ThisWorkbook Then Exit Sub
    If Not HasRefreshMarker(Wb) Then Exit Sub
    If LCase$(SheepSetting("REFRESH_ON_OPEN", "True")) = "false" Then Exit Sub
    If Wb.ReadOnly Then
        SheepStatus Wb.Name & " is read-only, so it was not refreshed.", 30
        Exit Sub
    End If
    If PendingWorkbooks Is Nothing Then Set PendingWorkbooks = New Collection
    If IsPending(Wb.FullName) Then Exit Sub
    PendingWorkbooks.Add Wb.FullName
    Application.OnTime Now, "'" & ThisWorkbook.Name & "'!SheepRunPendingRefresh"
    Exit Sub
failed:
    SheepFail "Refresh on open", Err.Description, True
End Sub

Public Sub SheepRefreshOpenWorkbooks()
    ' At load: the workbooks already open (the add-in was loaded after them) refresh as if they
    ' had just opened: same marker, same read-only and settings rules. Protected View windows
    ' are not in Application.Workbooks: they refresh when editing is enabled (WorkbookOpen).
    Dim Wb As Workbook
    On Error GoTo failed
    For Each Wb In Application.Workbooks
        If Not Wb Is ThisWorkbook Then SheepOnWorkbookOpen Wb
    Next Wb
    Exit Sub
failed:
    SheepFail "Refresh on open", Err.Description, True
End Sub

Public Function HasRefreshMarker(ByVal Wb As Workbook) As Boolean
    Dim marker As String
    On Error GoTo NoMarker
    marker = Wb.Names("SheepCRM_RefreshOnOpen").RefersTo
    HasRefreshMarker = (UCase$(Replace(marker, " ", "")) = "=TRUE")
    Exit Function
NoMarker:
    HasRefreshMarker = False
End Function

Private Function IsPending(ByVal fullName As String) As Boolean
    Dim item As Variant
    For Each item In PendingWorkbooks
        If item = fullName Then IsPending = True
    Next item
End Function

Private Function OpenWorkbook(ByVal fullName As String) As Workbook
    ' The open workbook called fullName, or Nothing if it was closed meanwhile.
    Dim Wb As Workbook
    For Each Wb In Application.Workbooks
        If Wb.FullName = fullName Then
            Set OpenWorkbook = Wb
            Exit Function
        End If
    Next Wb
End Function

Public Sub SheepRunPendingRefresh()
    ' OnTime, just after Excel finished opening: one Python run per queued workbook.
    Dim fullName As String, Wb As Workbook
    On Error GoTo failed
    SheepEnsureEvents
    If PendingWorkbooks Is Nothing Then Exit Sub
    Do While PendingWorkbooks.Count > 0
        fullName = PendingWorkbooks(1)
        PendingWorkbooks.Remove 1
        Set Wb = OpenWorkbook(fullName)
        If Not Wb Is Nothing Then SheepRequest "refresh_on_open", Wb
    Loop
    ' Python leaves a failure on the status bar: readable for a minute, then Excel's again
    Application.OnTime Now + TimeSerial(0, 1, 0), "'" & ThisWorkbook.Name & "'!SheepClearStatus"
    Exit Sub
failed:
    SheepFail "Refresh on open", Err.Description, True
End Sub
