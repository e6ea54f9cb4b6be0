Attribute VB_Name = "SheepRibbon"
Option Explicit

' Callbacks of the SheepCRM ribbon tab (customUI14.xml). Each one runs a thin Python entry point
' in sheep_xl.excel.ribbon; the API key never passes through VBA.

Public Sub SheepRefreshAll(control As IRibbonControl)
    RunSheep "refresh_all()"
#If Not Mac Then
    ' The refresh told the worksheet functions to fetch again; recalculate them now.
    Application.CalculateFull
#End If
End Sub

Public Sub SheepRefreshSheet(control As IRibbonControl)
    RunSheep "refresh_sheet(" & PyStr(ActiveSheet.Name) & ")"
End Sub

Public Sub SheepToggleRefreshOnOpen(control As IRibbonControl)
    RunSheep "toggle_refresh_on_open()"
End Sub

Public Sub SheepInsertTable(control As IRibbonControl)
    Dim bucket As String, state As String, columns As String
    If Not AskQuery(bucket, state, columns) Then Exit Sub
    RunSheep "insert_table(" & PyStr(bucket) & ", " & PyStr(state) & ", " & PyStr(columns) & ")"
End Sub

Public Sub SheepInsertFormula(control As IRibbonControl)
    Dim bucket As String, state As String, columns As String
    If Not AskQuery(bucket, state, columns) Then Exit Sub
    RunSheep "insert_formula(" & PyStr(bucket) & ", " & PyStr(state) & ", " & PyStr(columns) _
        & ", " & PyStr(ActiveSheet.Name) & ", " & PyStr(ActiveCell.Address(False, False)) & ")"
End Sub

Public Sub SheepSignIn(control As IRibbonControl)
    RunSheep "sign_in()"
End Sub

Public Sub SheepSignOut(control As IRibbonControl)
    RunSheep "sign_out()"
End Sub

Public Sub SheepDiagnostics(control As IRibbonControl)
    RunSheep "diagnostics()"
End Sub

Private Function AskQuery(bucket As String, state As String, columns As String) As Boolean
    Dim answer As Variant
    answer = Application.InputBox("sheepCRM bucket (your database name):", "SheepCRM", _
        CStr(GetConfig("DEFAULT_BUCKET", "")), Type:=2)
    If VarType(answer) = vbBoolean Then Exit Function
    bucket = Trim$(CStr(answer))
    answer = Application.InputBox("Events to fetch: confirmed, all, current, future, past, " _
        & "running, draft, cancelled, enquiry or tbc", "SheepCRM", "confirmed", Type:=2)
    If VarType(answer) = vbBoolean Then Exit Function
    state = Trim$(CStr(answer))
    answer = Application.InputBox("Columns: default, all, or field names separated by commas", _
        "SheepCRM", "default", Type:=2)
    If VarType(answer) = vbBoolean Then Exit Function
    columns = Trim$(CStr(answer))
    AskQuery = True
End Function
