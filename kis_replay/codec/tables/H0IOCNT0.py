"""H0IOCNT0: index option real-time trade (58 fields).

From the KIS API page [실시간-014] 지수옵션 실시간체결가.

Field names and order are exactly the page's; the types are ours:
the page types every field as String. TMVL_VAL (time value) is signed: it goes negative
for deep in-the-money options near expiry.
"""

from ..spec import TrKind, TrSpec, parse_table, register

FIELDS = parse_table(
    """
OPTN_SHRN_ISCD              code             옵션 단축 종목코드
BSOP_HOUR                   time             영업 시간
OPTN_PRPR                   price            옵션 현재가
PRDY_VRSS_SIGN              sign             전일 대비 부호
OPTN_PRDY_VRSS              price_change     옵션 전일 대비
PRDY_CTRT                   rate             전일 대비율
OPTN_OPRC                   price            옵션 시가2
OPTN_HGPR                   price            옵션 최고가
OPTN_LWPR                   price            옵션 최저가
LAST_CNQN                   quantity         최종 거래량
ACML_VOL                    quantity         누적 거래량
ACML_TR_PBMN                quantity         누적 거래 대금
HTS_THPR                    price            HTS 이론가
HTS_OTST_STPL_QTY           quantity         HTS 미결제 약정 수량
OTST_STPL_QTY_ICDC          quantity_change  미결제 약정 수량 증감
OPRC_HOUR                   time             시가 시간
OPRC_VRSS_PRPR_SIGN         sign             시가2 대비 현재가 부호
OPRC_VRSS_NMIX_PRPR         price_change     시가 대비 지수 현재가
HGPR_HOUR                   time             최고가 시간
HGPR_VRSS_PRPR_SIGN         sign             최고가 대비 현재가 부호
HGPR_VRSS_NMIX_PRPR         price_change     최고가 대비 지수 현재가
LWPR_HOUR                   time             최저가 시간
LWPR_VRSS_PRPR_SIGN         sign             최저가 대비 현재가 부호
LWPR_VRSS_NMIX_PRPR         price_change     최저가 대비 지수 현재가
SHNU_RATE                   rate             매수2 비율
PRMM_VAL                    price            프리미엄 값
INVL_VAL                    price            내재가치 값
TMVL_VAL                    price_change     시간가치 값
DELTA                       rate             델타
GAMA                        rate             감마
VEGA                        rate             베가
THETA                       rate             세타
RHO                         rate             로우
HTS_INTS_VLTL               rate             HTS 내재 변동성
ESDG                        rate             괴리도
OTST_STPL_RGBF_QTY_ICDC     quantity_change  미결제 약정 직전 수량 증감
THPR_BASIS                  rate             이론 베이시스
UNAS_HIST_VLTL              rate             역사적변동성
CTTR                        rate             체결강도
DPRT                        rate             괴리율
MRKT_BASIS                  rate             시장 베이시스
OPTN_ASKP1                  price            옵션 매도호가1
OPTN_BIDP1                  price            옵션 매수호가1
ASKP_RSQN1                  quantity         매도호가 잔량1
BIDP_RSQN1                  quantity         매수호가 잔량1
SELN_CNTG_CSNU              quantity         매도 체결 건수
SHNU_CNTG_CSNU              quantity         매수 체결 건수
NTBY_CNTG_CSNU              quantity_change  순매수 체결 건수
SELN_CNTG_SMTN              quantity         총 매도 수량
SHNU_CNTG_SMTN              quantity         총 매수 수량
TOTAL_ASKP_RSQN             quantity         총 매도호가 잔량
TOTAL_BIDP_RSQN             quantity         총 매수호가 잔량
PRDY_VOL_VRSS_ACML_VOL_RATE rate             전일 거래량 대비 등락율
AVRG_VLTL                   rate             평균 변동성
DSCS_LRQN_VOL               quantity         협의대량누적 거래량
DYNM_MXPR                   price            실시간상한가
DYNM_LLAM                   price            실시간하한가
DYNM_PRC_LIMT_YN            flag             실시간가격제한구분
"""
)

SPEC = register(
    TrSpec(
        tr_id="H0IOCNT0",
        title="index option real-time trade",
        kind=TrKind.TRADE,
        fields=FIELDS,
        filtered=False,
        key_width=(8, 9),
    )
)
