/* energy-hub-card sources sha256:ab0fa8253fe3a8bf43bef0b1fa81f2613dabbab5bdca901a8a7279a8cb93b4b6 */
var Z=globalThis,tt=Z.ShadowRoot&&(Z.ShadyCSS===void 0||Z.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,at=Symbol(),bt=new WeakMap,L=class{constructor(t,e,n){if(this._$cssResult$=!0,n!==at)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(tt&&t===void 0){let n=e!==void 0&&e.length===1;n&&(t=bt.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),n&&bt.set(e,t))}return t}toString(){return this.cssText}},wt=i=>new L(typeof i=="string"?i:i+"",void 0,at),z=(i,...t)=>{let e=i.length===1?i[0]:t.reduce((n,s,r)=>n+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(s)+i[r+1],i[0]);return new L(e,i,at)},xt=(i,t)=>{if(tt)i.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let n=document.createElement("style"),s=Z.litNonce;s!==void 0&&n.setAttribute("nonce",s),n.textContent=e.cssText,i.appendChild(n)}},ct=tt?i=>i:i=>i instanceof CSSStyleSheet?(t=>{let e="";for(let n of t.cssRules)e+=n.cssText;return wt(e)})(i):i;var{is:Zt,defineProperty:te,getOwnPropertyDescriptor:ee,getOwnPropertyNames:ne,getOwnPropertySymbols:se,getPrototypeOf:ie}=Object,et=globalThis,At=et.trustedTypes,re=At?At.emptyScript:"",oe=et.reactiveElementPolyfillSupport,F=(i,t)=>i,lt={toAttribute(i,t){switch(t){case Boolean:i=i?re:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,t){let e=i;switch(t){case Boolean:e=i!==null;break;case Number:e=i===null?null:Number(i);break;case Object:case Array:try{e=JSON.parse(i)}catch{e=null}}return e}},St=(i,t)=>!Zt(i,t),Et={attribute:!0,type:String,converter:lt,reflect:!1,useDefault:!1,hasChanged:St};Symbol.metadata??=Symbol("metadata"),et.litPropertyMetadata??=new WeakMap;var x=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Et){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let n=Symbol(),s=this.getPropertyDescriptor(t,n,e);s!==void 0&&te(this.prototype,t,s)}}static getPropertyDescriptor(t,e,n){let{get:s,set:r}=ee(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:s,set(o){let a=s?.call(this);r?.call(this,o),this.requestUpdate(t,a,n)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Et}static _$Ei(){if(this.hasOwnProperty(F("elementProperties")))return;let t=ie(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(F("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(F("properties"))){let e=this.properties,n=[...ne(e),...se(e)];for(let s of n)this.createProperty(s,e[s])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[n,s]of e)this.elementProperties.set(n,s)}this._$Eh=new Map;for(let[e,n]of this.elementProperties){let s=this._$Eu(e,n);s!==void 0&&this._$Eh.set(s,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let n=new Set(t.flat(1/0).reverse());for(let s of n)e.unshift(ct(s))}else t!==void 0&&e.push(ct(t));return e}static _$Eu(t,e){let n=e.attribute;return n===!1?void 0:typeof n=="string"?n:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let n of e.keys())this.hasOwnProperty(n)&&(t.set(n,this[n]),delete this[n]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return xt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,n){this._$AK(t,n)}_$ET(t,e){let n=this.constructor.elementProperties.get(t),s=this.constructor._$Eu(t,n);if(s!==void 0&&n.reflect===!0){let r=(n.converter?.toAttribute!==void 0?n.converter:lt).toAttribute(e,n.type);this._$Em=t,r==null?this.removeAttribute(s):this.setAttribute(s,r),this._$Em=null}}_$AK(t,e){let n=this.constructor,s=n._$Eh.get(t);if(s!==void 0&&this._$Em!==s){let r=n.getPropertyOptions(s),o=typeof r.converter=="function"?{fromAttribute:r.converter}:r.converter?.fromAttribute!==void 0?r.converter:lt;this._$Em=s;let a=o.fromAttribute(e,r.type);this[s]=a??this._$Ej?.get(s)??a,this._$Em=null}}requestUpdate(t,e,n,s=!1,r){if(t!==void 0){let o=this.constructor;if(s===!1&&(r=this[t]),n??=o.getPropertyOptions(t),!((n.hasChanged??St)(r,e)||n.useDefault&&n.reflect&&r===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,n))))return;this.C(t,e,n)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:n,reflect:s,wrapped:r},o){n&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),r!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||n||(e=void 0),this._$AL.set(t,e)),s===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[s,r]of this._$Ep)this[s]=r;this._$Ep=void 0}let n=this.constructor.elementProperties;if(n.size>0)for(let[s,r]of n){let{wrapped:o}=r,a=this[s];o!==!0||this._$AL.has(s)||a===void 0||this.C(s,void 0,r,a)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(n=>n.hostUpdate?.()),this.update(e)):this._$EM()}catch(n){throw t=!1,this._$EM(),n}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};x.elementStyles=[],x.shadowRootOptions={mode:"open"},x[F("elementProperties")]=new Map,x[F("finalized")]=new Map,oe?.({ReactiveElement:x}),(et.reactiveElementVersions??=[]).push("2.1.2");var gt=globalThis,kt=i=>i,nt=gt.trustedTypes,Ct=nt?nt.createPolicy("lit-html",{createHTML:i=>i}):void 0,Ot="$lit$",S=`lit$${Math.random().toFixed(9).slice(2)}$`,Nt="?"+S,ae=`<${Nt}>`,R=document,W=()=>R.createComment(""),j=i=>i===null||typeof i!="object"&&typeof i!="function",yt=Array.isArray,ce=i=>yt(i)||typeof i?.[Symbol.iterator]=="function",dt=`[ 	
\f\r]`,I=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Mt=/-->/g,Rt=/>/g,C=RegExp(`>|${dt}(?:([^\\s"'>=/]+)(${dt}*=${dt}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Pt=/'/g,Ht=/"/g,Ut=/^(?:script|style|textarea|title)$/i,_t=i=>(t,...e)=>({_$litType$:i,strings:t,values:e}),g=_t(1),vt=_t(2),$e=_t(3),P=Symbol.for("lit-noChange"),m=Symbol.for("lit-nothing"),Tt=new WeakMap,M=R.createTreeWalker(R,129);function Dt(i,t){if(!yt(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return Ct!==void 0?Ct.createHTML(t):t}var le=(i,t)=>{let e=i.length-1,n=[],s,r=t===2?"<svg>":t===3?"<math>":"",o=I;for(let a=0;a<e;a++){let c=i[a],h,l,d=-1,p=0;for(;p<c.length&&(o.lastIndex=p,l=o.exec(c),l!==null);)p=o.lastIndex,o===I?l[1]==="!--"?o=Mt:l[1]!==void 0?o=Rt:l[2]!==void 0?(Ut.test(l[2])&&(s=RegExp("</"+l[2],"g")),o=C):l[3]!==void 0&&(o=C):o===C?l[0]===">"?(o=s??I,d=-1):l[1]===void 0?d=-2:(d=o.lastIndex-l[2].length,h=l[1],o=l[3]===void 0?C:l[3]==='"'?Ht:Pt):o===Ht||o===Pt?o=C:o===Mt||o===Rt?o=I:(o=C,s=void 0);let y=o===C&&i[a+1].startsWith("/>")?" ":"";r+=o===I?c+ae:d>=0?(n.push(h),c.slice(0,d)+Ot+c.slice(d)+S+y):c+S+(d===-2?a:y)}return[Dt(i,r+(i[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),n]},V=class i{constructor({strings:t,_$litType$:e},n){let s;this.parts=[];let r=0,o=0,a=t.length-1,c=this.parts,[h,l]=le(t,e);if(this.el=i.createElement(h,n),M.currentNode=this.el.content,e===2||e===3){let d=this.el.content.firstChild;d.replaceWith(...d.childNodes)}for(;(s=M.nextNode())!==null&&c.length<a;){if(s.nodeType===1){if(s.hasAttributes())for(let d of s.getAttributeNames())if(d.endsWith(Ot)){let p=l[o++],y=s.getAttribute(d).split(S),E=/([.?@])?(.*)/.exec(p);c.push({type:1,index:r,name:E[2],strings:y,ctor:E[1]==="."?ut:E[1]==="?"?pt:E[1]==="@"?ft:B}),s.removeAttribute(d)}else d.startsWith(S)&&(c.push({type:6,index:r}),s.removeAttribute(d));if(Ut.test(s.tagName)){let d=s.textContent.split(S),p=d.length-1;if(p>0){s.textContent=nt?nt.emptyScript:"";for(let y=0;y<p;y++)s.append(d[y],W()),M.nextNode(),c.push({type:2,index:++r});s.append(d[p],W())}}}else if(s.nodeType===8)if(s.data===Nt)c.push({type:2,index:r});else{let d=-1;for(;(d=s.data.indexOf(S,d+1))!==-1;)c.push({type:7,index:r}),d+=S.length-1}r++}}static createElement(t,e){let n=R.createElement("template");return n.innerHTML=t,n}};function D(i,t,e=i,n){if(t===P)return t;let s=n!==void 0?e._$Co?.[n]:e._$Cl,r=j(t)?void 0:t._$litDirective$;return s?.constructor!==r&&(s?._$AO?.(!1),r===void 0?s=void 0:(s=new r(i),s._$AT(i,e,n)),n!==void 0?(e._$Co??=[])[n]=s:e._$Cl=s),s!==void 0&&(t=D(i,s._$AS(i,t.values),s,n)),t}var ht=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:n}=this._$AD,s=(t?.creationScope??R).importNode(e,!0);M.currentNode=s;let r=M.nextNode(),o=0,a=0,c=n[0];for(;c!==void 0;){if(o===c.index){let h;c.type===2?h=new q(r,r.nextSibling,this,t):c.type===1?h=new c.ctor(r,c.name,c.strings,this,t):c.type===6&&(h=new mt(r,this,t)),this._$AV.push(h),c=n[++a]}o!==c?.index&&(r=M.nextNode(),o++)}return M.currentNode=R,s}p(t){let e=0;for(let n of this._$AV)n!==void 0&&(n.strings!==void 0?(n._$AI(t,n,e),e+=n.strings.length-2):n._$AI(t[e])),e++}},q=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,n,s){this.type=2,this._$AH=m,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=n,this.options=s,this._$Cv=s?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=D(this,t,e),j(t)?t===m||t==null||t===""?(this._$AH!==m&&this._$AR(),this._$AH=m):t!==this._$AH&&t!==P&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):ce(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==m&&j(this._$AH)?this._$AA.nextSibling.data=t:this.T(R.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:n}=t,s=typeof n=="number"?this._$AC(t):(n.el===void 0&&(n.el=V.createElement(Dt(n.h,n.h[0]),this.options)),n);if(this._$AH?._$AD===s)this._$AH.p(e);else{let r=new ht(s,this),o=r.u(this.options);r.p(e),this.T(o),this._$AH=r}}_$AC(t){let e=Tt.get(t.strings);return e===void 0&&Tt.set(t.strings,e=new V(t)),e}k(t){yt(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,n,s=0;for(let r of t)s===e.length?e.push(n=new i(this.O(W()),this.O(W()),this,this.options)):n=e[s],n._$AI(r),s++;s<e.length&&(this._$AR(n&&n._$AB.nextSibling,s),e.length=s)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let n=kt(t).nextSibling;kt(t).remove(),t=n}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},B=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,n,s,r){this.type=1,this._$AH=m,this._$AN=void 0,this.element=t,this.name=e,this._$AM=s,this.options=r,n.length>2||n[0]!==""||n[1]!==""?(this._$AH=Array(n.length-1).fill(new String),this.strings=n):this._$AH=m}_$AI(t,e=this,n,s){let r=this.strings,o=!1;if(r===void 0)t=D(this,t,e,0),o=!j(t)||t!==this._$AH&&t!==P,o&&(this._$AH=t);else{let a=t,c,h;for(t=r[0],c=0;c<r.length-1;c++)h=D(this,a[n+c],e,c),h===P&&(h=this._$AH[c]),o||=!j(h)||h!==this._$AH[c],h===m?t=m:t!==m&&(t+=(h??"")+r[c+1]),this._$AH[c]=h}o&&!s&&this.j(t)}j(t){t===m?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},ut=class extends B{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===m?void 0:t}},pt=class extends B{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==m)}},ft=class extends B{constructor(t,e,n,s,r){super(t,e,n,s,r),this.type=5}_$AI(t,e=this){if((t=D(this,t,e,0)??m)===P)return;let n=this._$AH,s=t===m&&n!==m||t.capture!==n.capture||t.once!==n.once||t.passive!==n.passive,r=t!==m&&(n===m||s);s&&this.element.removeEventListener(this.name,this,n),r&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},mt=class{constructor(t,e,n){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=n}get _$AU(){return this._$AM._$AU}_$AI(t){D(this,t)}};var de=gt.litHtmlPolyfillSupport;de?.(V,q),(gt.litHtmlVersions??=[]).push("3.3.3");var Bt=(i,t,e)=>{let n=e?.renderBefore??t,s=n._$litPart$;if(s===void 0){let r=e?.renderBefore??null;n._$litPart$=s=new q(t.insertBefore(W(),r),r,void 0,e??{})}return s._$AI(i),s};var $t=globalThis,$=class extends x{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Bt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return P}};$._$litElement$=!0,$.finalized=!0,$t.litElementHydrateSupport?.({LitElement:$});var he=$t.litElementPolyfillSupport;he?.({LitElement:$});($t.litElementVersions??=[]).push("4.2.2");var K="energy_hub";var Lt=["very_low","low","moderate","high","very_high"];function H(i){if(typeof i!="string"&&typeof i!="number")return;let t=typeof i=="number"?i:Date.parse(i);return Number.isFinite(t)?t:void 0}function T(i){let t=typeof i=="number"?i:typeof i=="string"?Number(i):NaN;return Number.isFinite(t)?t:void 0}function zt(i,t,e){let n=i?.attributes.forecast;if(!Array.isArray(n))return[];let s=t+e*3600*1e3,r=[];for(let o of n){let a=H(o.start??o.from),c=H(o.end??o.to),h=T(o.intensity);if(a===void 0||c===void 0||h===void 0||c<=t||a>=s)continue;let l=String(o.index??"");r.push({start:a,end:c,value:h,band:Lt.includes(l)?l:"unknown"})}return r.sort((o,a)=>o.start-a.start)}function Ft(i){if(!i)return[];let t=[];for(let e of["rates_today","rates_tomorrow","rates"]){let n=i.attributes[e];if(Array.isArray(n))for(let s of n){let r=H(s.start??s.from),o=H(s.end??s.to),a=T(s.value_inc_vat??s.value);r===void 0||o===void 0||a===void 0||o<=r||t.push({start:r,end:o,value:a})}}return t}function st(i,t){return new Intl.DateTimeFormat("en-CA",{timeZone:t,year:"numeric",month:"2-digit",day:"2-digit"}).format(i)}function It(i,t,e,n){let s=Ft(i);if(!s.length)return[];let r=t+e*3600*1e3,o=Math.max(...s.map(h=>h.end)),a=[];for(let h=Math.floor(t/18e5)*18e5;h<Math.min(o,r);h+=18e5){let l;for(let d of s)d.start<=h&&h<d.end&&(l=d.value);l!==void 0&&a.push({start:h,end:h+18e5,value:l,band:"unknown"})}let c=new Map;for(let h of s){let l=st(h.start,n),[d,p]=c.get(l)??[1/0,-1/0];c.set(l,[Math.min(d,h.value),Math.max(p,h.value)])}for(let h of a){if(h.value<0){h.band="negative";continue}let[l,d]=c.get(st(h.start,n))??[h.value,h.value],p=d>l?(h.value-Math.max(l,0))/(d-Math.max(l,0)):.5;h.band=Lt[Math.min(4,Math.max(0,Math.floor(p*5)))]}return a}function it(i,t){if(!i)return;let e=H(i.attributes.start),n=H(i.attributes.end);if(!(e===void 0||n===void 0||n<=e))return{start:e,end:n,label:t,entity:i.entity_id}}function Wt(i,t,e){let n=new Map;for(let r of Ft(i)){let o=st(r.start,e);n.set(o,Math.min(n.get(o)??1/0,r.value))}let s=[];for(let r of t){if(r.value!==n.get(st(r.start,e)))continue;let o=s[s.length-1];o&&o.end===r.start?o.end=r.end:s.push({start:r.start,end:r.end,label:"cheapest",entity:i?.entity_id??""})}return s}function A(i,t){if(t)return i.entities?.[t]?.device_id??void 0}function G(i,t){return t?Object.values(i.entities??{}).filter(e=>e.device_id===t&&e.platform===K):[]}function jt(i,t,e){return G(i,A(i,t)).find(n=>n.translation_key===e)?.entity_id}function Vt(i,t){let e=t?i.devices?.[t]:void 0;return e?.name_by_user||e?.name||""}function ue(i,t){let e=String(i.states[t]?.attributes.friendly_name??t),n=Vt(i,A(i,t)),s=n&&e.startsWith(n+" ")?e.slice(n.length+1):e;return s.replace(/ (share|generation|interconnector)$/i,"")||s}function qt(i,t){let e=l=>G(i,A(i,t)).filter(d=>l.some(p=>(d.translation_key??"").startsWith(p))).map(d=>{let p=i.states[d.entity_id];return{entity:d.entity_id,label:ue(i,d.entity_id),value:T(p?.state)??NaN,unit:String(p?.attributes.unit_of_measurement??""),share:0}}).filter(d=>Number.isFinite(d.value)),n=e(["share_","generation_"]).filter(l=>l.value>0),s=e(["interconnector"]),r=s.filter(l=>l.value>0),o=s.filter(l=>l.value<0).map(l=>({...l,value:-l.value})),a=n.every(l=>l.unit==="%"),c=n.reduce((l,d)=>l+d.value,0)+(a?0:r.reduce((l,d)=>l+d.value,0));for(let l of n)l.share=a?l.value:c?100*l.value/c:0;for(let l of r)l.share=a||!c?0:100*l.value/c;let h=(l,d)=>d.value-l.value;return{fuels:n.sort(h),imports:r.sort(h),exports:o.sort(h)}}function Kt(i,t){let e=A(i,t);if(!e)return[];let n=i.devices??{},s=o=>{let a=new Set,c=n[o]?.via_device_id;for(;c&&!a.has(c);){if(c===e)return!0;a.add(c),c=n[c]?.via_device_id}return!1},r=[];for(let o of Object.keys(n).filter(s)){let a=G(i,o),c=p=>a.find(y=>y.translation_key===p)?.entity_id,h=c("pv_power");if(!h)continue;let l=c("device_status"),d=c("inverter_temperature");r.push({device:o,name:Vt(i,o),powerEntity:h,power:T(i.states[h]?.state),status:l?i.states[l]?.state:void 0,temperature:d?T(i.states[d]?.state):void 0})}return r.sort((o,a)=>o.name.localeCompare(a.name,void 0,{numeric:!0}))}var Gt=["battery_soc","battery_power","pv_power","grid_power","house_power"];function Xt(i){if(!Array.isArray(i))return[];let t=[];for(let e of i){let n=T(e.s??e.state),s=T(e.lu??e.lc),r=s!==void 0?s*1e3:H(e.last_updated??e.last_changed);n!==void 0&&r!==void 0&&t.push([r,n])}return t}var pe=[{value:"forecast",label:"Forecast (carbon intensity, prices, windows)"},{value:"mix",label:"Grid mix"},{value:"plant",label:"Plant (microinverters)"},{value:"battery",label:"Battery (last days)"}],fe={view:"View",title:"Title",carbon_entity:"Carbon intensity sensor",price_entity:"Rate sensor",hours:"Hours ahead",windows:"More windows (entities with start and end attributes)",entity:"Entity of the device to show",days:"Days of history"};function me(i){let t=(n="sensor")=>({entity:{filter:{integration:K,domain:n}}}),e=[{name:"view",required:!0,selector:{select:{mode:"dropdown",options:pe}}},{name:"title",selector:{text:{}}}];switch(i){case"mix":case"plant":return[...e,{name:"entity",required:!0,selector:t()}];case"battery":return[...e,{name:"entity",required:!0,selector:t()},{name:"days",selector:{number:{min:1,max:7,step:1,mode:"slider"}}}];default:return[...e,{name:"carbon_entity",selector:t()},{name:"price_entity",selector:t()},{name:"hours",selector:{number:{min:6,max:48,step:6,mode:"slider"}}},{name:"windows",selector:{entity:{multiple:!0}}}]}}var X=class extends ${setConfig(t){this._config=t}render(){if(!this.hass||!this._config)return m;let t=String(this._config.view??"forecast");return g`<ha-form
      .hass=${this.hass}
      .data=${{view:t,...this._config}}
      .schema=${me(t)}
      .computeLabel=${e=>fe[e.name]??e.name}
      @value-changed=${this._changed}
    ></ha-form>`}_changed(t){t.stopPropagation();let e={...t.detail.value};for(let[n,s]of Object.entries(e))(s===""||s===void 0||Array.isArray(s)&&!s.length)&&delete e[n];this._config=e,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:e},bubbles:!0,composed:!0}))}};X.properties={hass:{attribute:!1},_config:{state:!0}},X.styles=z`
    :host {
      display: block;
    }
  `;function Yt(){customElements.get("energy-hub-card-editor")||customElements.define("energy-hub-card-editor",X)}var Jt=["forecast","mix","plant","battery"],rt="energy-hub-card";function O(i,t,e){return Math.min(e,Math.max(t,i))}var Y=class extends ${constructor(){super(...arguments);this._historyKey="";this._historyAt=0}static getConfigElement(){return document.createElement("energy-hub-card-editor")}static getStubConfig(e){let n=Object.values(e.entities??{}).filter(a=>a.platform===K),s=n.find(a=>a.translation_key==="carbon_intensity")?.entity_id,r=n.find(a=>a.translation_key==="rate_current")?.entity_id,o={view:"forecast",hours:48};return s&&(o.carbon_entity=s),r&&(o.price_entity=r),o}setConfig(e){if(!e||typeof e!="object")throw new Error("Invalid configuration");let n=e.view??"forecast";if(!Jt.includes(n))throw new Error(`Unknown view "${String(e.view)}": use one of ${Jt.join(", ")}`);if(e.windows!==void 0&&!Array.isArray(e.windows))throw new Error("windows must be a list of entities");this._config={...e,view:n}}getCardSize(){return this._config?.view==="mix"?5:4}getGridOptions(){return{columns:12,min_columns:6,rows:"auto"}}updated(e){this._config?.view==="battery"&&(e.has("hass")||e.has("_config"))&&this._maybeFetchHistory()}_timeFormat(e=!1){let n=this.hass;return new Intl.DateTimeFormat(n.locale?.language??n.language??"en",{timeZone:n.config.time_zone,hour:"2-digit",minute:"2-digit",...e?{weekday:"short"}:{}})}_unit(e){return String((e&&this.hass?.states[e]?.attributes.unit_of_measurement)??"")}_warning(e){return g`<div class="warning" role="status">${e}</div>`}render(){if(!this._config||!this.hass)return m;let e=this._config.view,n=e==="forecast"?this._renderForecast():e==="mix"?this._renderMix():e==="plant"?this._renderPlant():this._renderBattery();return g`<ha-card .header=${this._config.title}>
      <div class="content view-${e}" data-view=${e}>${n}</div>
    </ha-card>`}_renderForecast(){let e=this._config,n=this.hass,s=Date.now(),r=O(Number(e.hours??48)||48,1,48),o=[];if(e.carbon_entity){let a=n.states[e.carbon_entity],c=zt(a,s,r),h=[],l=it(n.states[jt(n,e.carbon_entity,"greenest_window_start")??""],"greenest");l&&h.push(l);for(let d of e.windows??[]){let p=it(n.states[d],"window");p&&h.push(p)}o.push(a?this._chart("carbon","Carbon intensity",c,h,s,this._unit(e.carbon_entity),0):this._warning(`Entity not found: ${e.carbon_entity}`))}if(e.price_entity){let a=n.states[e.price_entity],c=It(a,s,r,n.config.time_zone),h=Wt(a,c,n.config.time_zone);for(let l of e.windows??[]){let d=it(n.states[l],"window");d&&h.push(d)}o.push(a?this._chart("price","Price",c,h,s,this._unit(e.price_entity),4):this._warning(`Entity not found: ${e.price_entity}`))}return o.length?g`${o}`:this._warning("Choose a carbon intensity sensor or a rate sensor.")}_chart(e,n,s,r,o,a,c){if(!s.length)return g`<section class="chart" data-series=${e} data-now=${o}>
        <h3>${n}</h3>
        ${this._warning("No forecast yet.")}
      </section>`;let h=s[0].start,l=s[s.length-1].end,d=l-h,p=u=>100*(O(u,h,l)-h)/d,y=Math.min(0,...s.map(u=>u.value)),J=(Math.max(0,...s.map(u=>u.value))||1)-y||1,N=100*-y/J,f=this._timeFormat(),_=this._timeFormat(!0),b=[],w=d>24*36e5?6*36e5:3*36e5;for(let u=Math.ceil(h/w)*w;u<l;u+=w)b.push(u);let k=this._tip?.series===e?this._tip:void 0,U=(u,v)=>{let Q=u.value.toFixed(c),ot=u.band==="unknown"?"":` \xB7 ${u.band.replace("_"," ")}`;this._tip={series:e,left:v,text:`${_.format(u.start)}\u2013${f.format(u.end)} \xB7 ${Q} ${a}${ot}`}};return g`<section class="chart" data-series=${e} data-now=${o} data-hours=${(l-h)/36e5}>
      <h3>${n} <span class="unit">${a}</span></h3>
      <div class="plot" @pointerleave=${()=>this._tip=void 0}>
        ${r.filter(u=>u.end>h&&u.start<l).map(u=>g`<div
              class="window window-${u.label}"
              data-start=${new Date(u.start).toISOString()}
              data-end=${new Date(u.end).toISOString()}
              data-entity=${u.entity}
              title=${`${u.label}: ${_.format(u.start)}\u2013${f.format(u.end)}`}
              style=${`left:${p(u.start)}%;width:${p(u.end)-p(u.start)}%`}
            ></div>`)}
        <div class="zero" style=${`bottom:${N}%`}></div>
        ${s.map(u=>{let v=p(u.start),Q=100*Math.abs(u.value)/J,ot=u.value>=0?N:N-Q;return g`<div
            class="bar band-${u.band}"
            tabindex="0"
            role="img"
            aria-label=${`${f.format(u.start)} ${u.value.toFixed(c)} ${a}`}
            data-start=${new Date(u.start).toISOString()}
            data-value=${u.value}
            style=${`left:${v}%;width:${p(u.end)-v}%;bottom:${ot}%;height:${Math.max(Q,.5)}%`}
            @pointerenter=${()=>U(u,v)}
            @focus=${()=>U(u,v)}
            @click=${()=>U(u,v)}
          ></div>`})}
        ${o>=h&&o<=l?g`<div class="now" style=${`left:${p(o)}%`} title="now"></div>`:m}
        ${k?g`<div
              class="tip"
              role="tooltip"
              style=${k.left<50?`left:${Math.max(k.left,0)}%`:`right:${Math.max(100-k.left-2,0)}%`}
            >
              ${k.text}
            </div>`:m}
      </div>
      <div class="axis">
        ${b.map(u=>g`<span style=${`left:${p(u)}%`}>${f.format(u)}</span>`)}
      </div>
    </section>`}_renderMix(){let e=this._config;if(!e.entity)return this._warning("Choose an entity of a Carbon Intensity or Elexon entry.");if(!A(this.hass,e.entity))return this._warning(`Entity not found: ${e.entity}`);let n=qt(this.hass,e.entity);if(!n.fuels.length)return this._warning("No generation mix yet.");let s=(a,c)=>g`<div class="mix-row mix-${c}" data-entity=${a.entity}>
        <span class="label">${a.label}</span>
        <span class="track"><span class="fill" style=${`width:${O(a.share,0,100)}%`}></span></span>
        <span class="value">${a.unit==="%"?`${a.value.toFixed(1)} %`:`${Math.round(a.value)} ${a.unit}`}</span>
      </div>`,r=Math.max(1,...[...n.imports,...n.exports].map(a=>a.value)),o=(a,c)=>s({...a,share:100*a.value/r},c);return g`<div class="mix">
      <h3>Generation</h3>
      ${n.fuels.map(a=>s(a,"fuel"))}
      ${n.imports.length||n.exports.length?g`<h3>Interconnectors</h3>
            ${n.imports.map(a=>o(a,"import"))} ${n.exports.map(a=>o(a,"export"))}
            <div class="legend"><span class="key key-import"></span>import <span class="key key-export"></span>export</div>`:m}
    </div>`}_renderPlant(){let e=this._config;if(!e.entity)return this._warning("Choose an entity of a Hoymiles plant.");if(!A(this.hass,e.entity))return this._warning(`Entity not found: ${e.entity}`);let n=Kt(this.hass,e.entity);if(!n.length)return this._warning("No microinverters under this plant.");let s=Math.max(1,...n.map(r=>r.power??0));return g`<div class="tiles">
      ${n.map(r=>{let o=r.power===void 0?0:O(r.power/s,0,1),a=r.status??"unknown";return g`<div
          class="tile status-${a}"
          data-device=${r.device}
          data-power=${r.power??""}
          style=${`--level:${o}`}
          title=${r.name}
        >
          <span class="name">${r.name}</span>
          <span class="power">${r.power===void 0?"\u2013":`${Math.round(r.power)} W`}</span>
          <span class="meta"
            >${a}${r.temperature===void 0?"":` \xB7 ${r.temperature.toFixed(1)} \xB0C`}</span
          >
        </div>`})}
    </div>`}_batteryEntities(){let e=this._config,n=this.hass,s=G(n,A(n,e.entity));return Gt.flatMap(r=>{let o=s.find(a=>a.translation_key===r);return o?[{key:r,entity:o.entity_id}]:[]})}_maybeFetchHistory(){if(!this.hass||!this._config?.entity)return;let e=this._batteryEntities(),n=O(Number(this._config.days??2)||2,1,7),s=`${n}|${e.map(a=>a.entity).join(",")}`;if(!e.length||s===this._historyKey&&Date.now()-this._historyAt<5*6e4)return;this._historyKey=s,this._historyAt=Date.now();let r=new Date,o=new Date(r.getTime()-n*24*36e5);this.hass.callWS({type:"history/history_during_period",start_time:o.toISOString(),end_time:r.toISOString(),entity_ids:e.map(a=>a.entity),minimal_response:!0,no_attributes:!0,significant_changes_only:!1}).then(a=>{s===this._historyKey&&(this._history=e.map(c=>({...c,points:Xt(a[c.entity])})),this._historyError=void 0)}).catch(a=>{this._historyError=`History unavailable: ${a?.message??String(a)}`})}_renderBattery(){let e=this._config;if(!e.entity)return this._warning("Choose an entity of a battery (XOLTA, Aretas, Hoymiles).");if(!A(this.hass,e.entity))return this._warning(`Entity not found: ${e.entity}`);if(this._historyError)return this._warning(this._historyError);if(!this._history)return g`<div class="loading">Loading history…</div>`;let n=Date.now(),s=O(Number(e.days??2)||2,1,7),r=this._history.map(f=>{let _=Number(this.hass.states[f.entity]?.state),b=f.points.filter(([w])=>w<=n);return Number.isFinite(_)&&b.push([n,_]),{...f,points:b}}),o=Math.min(n,...r.flatMap(f=>f.points.map(([_])=>_))),a=Math.min(n-10*6e4,Math.max(n-s*24*36e5,o)),c=r.find(f=>f.key==="battery_soc"),h=r.filter(f=>f.key!=="battery_soc"),l=600,d=150,p=f=>(Math.max(f,a)-a)/(n-a)*l,y=(f,_)=>{let b="",w;for(let[k,U]of f){let u=p(k).toFixed(1),v=_(U).toFixed(1);b+=b?`${w!==void 0?` L${u},${w.toFixed(1)}`:""} L${u},${v}`:`M${u},${v}`,w=_(U)}return b},E=Math.max(1,...h.flatMap(f=>f.points.map(([,_])=>Math.abs(_)))),J=this._timeFormat(!0),N={battery_soc:"State of charge",battery_power:"Battery",pv_power:"PV",grid_power:"Grid",house_power:"House"};return g`<div class="battery">
      ${c?g`<section class="series-chart" data-series="battery_soc" data-points=${c.points.length}>
            <h3>${N.battery_soc} <span class="unit">%</span></h3>
            <svg viewBox="0 0 ${l} ${d}" preserveAspectRatio="none" role="img" aria-label="State of charge">
              ${[0,50,100].map(f=>vt`<line class="grid" x1="0" x2=${l} y1=${d-f/100*d} y2=${d-f/100*d}></line>`)}
              <path class="line s-battery_soc" d=${y(c.points,f=>d-O(f,0,100)/100*d)}></path>
            </svg>
          </section>`:m}
      ${h.length?g`<section class="series-chart" data-series="power">
            <h3>Power <span class="unit">kW</span></h3>
            <svg viewBox="0 0 ${l} ${d}" preserveAspectRatio="none" role="img" aria-label="Power">
              <line class="grid" x1="0" x2=${l} y1=${d/2} y2=${d/2}></line>
              ${h.map(f=>vt`<path class=${`line s-${f.key}`} data-series=${f.key} data-points=${f.points.length} d=${y(f.points,_=>d/2-_/E*(d/2-2))}></path>`)}
            </svg>
            <div class="legend">
              ${h.map(f=>g`<span><span class="key s-${f.key}"></span>${N[f.key]}</span>`)}
              <span class="hint">± ${(E/1e3).toFixed(1)} kW</span>
            </div>
          </section>`:m}
      <div class="axis-text"><span>${J.format(a)}</span><span>now</span></div>
    </div>`}};Y.properties={hass:{attribute:!1},_config:{state:!0},_tip:{state:!0},_history:{state:!0},_historyError:{state:!0}},Y.styles=z`
    :host {
      --eh-very-low: #1a9850;
      --eh-low: #91cf60;
      --eh-moderate: #fee08b;
      --eh-high: #fc8d59;
      --eh-very-high: #d73027;
      --eh-negative: #4575b4;
      --eh-unknown: var(--disabled-text-color, #9e9e9e);
      --eh-window: rgba(26, 152, 80, 0.18);
      --eh-cheapest: rgba(69, 117, 180, 0.18);
    }
    .content {
      padding: 8px 16px 16px;
      color: var(--primary-text-color);
    }
    h3 {
      margin: 8px 0 4px;
      font-size: 0.95em;
      font-weight: 500;
    }
    .unit,
    .hint {
      color: var(--secondary-text-color);
      font-weight: normal;
      font-size: 0.85em;
    }
    .warning,
    .loading {
      padding: 8px 0;
      color: var(--secondary-text-color);
    }
    .plot {
      position: relative;
      height: 120px;
      border-bottom: 1px solid var(--divider-color, #ccc);
      touch-action: pan-y;
    }
    .bar {
      position: absolute;
      box-sizing: border-box;
      border-left: 1px solid var(--card-background-color, #fff);
      border-radius: 2px 2px 0 0;
      cursor: pointer;
      outline: none;
    }
    .bar:hover,
    .bar:focus {
      filter: brightness(0.85);
    }
    .band-very_low { background: var(--eh-very-low); }
    .band-low { background: var(--eh-low); }
    .band-moderate { background: var(--eh-moderate); }
    .band-high { background: var(--eh-high); }
    .band-very_high { background: var(--eh-very-high); }
    .band-negative {
      background: var(--eh-negative);
      border-radius: 0 0 2px 2px;
    }
    .band-unknown { background: var(--eh-unknown); }
    .window {
      position: absolute;
      top: 0;
      bottom: 0;
      background: var(--eh-window);
      border-top: 3px solid var(--eh-very-low);
      pointer-events: none;
    }
    .window-cheapest {
      background: var(--eh-cheapest);
      border-top-color: var(--eh-negative);
    }
    .zero {
      position: absolute;
      left: 0;
      right: 0;
      border-top: 1px dashed var(--divider-color, #ccc);
    }
    .now {
      position: absolute;
      top: -4px;
      bottom: 0;
      width: 0;
      border-left: 2px solid var(--primary-color, #03a9f4);
      pointer-events: none;
    }
    .tip {
      position: absolute;
      top: 2px;
      background: var(--card-background-color, #fff);
      color: var(--primary-text-color);
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
      padding: 2px 6px;
      font-size: 0.8em;
      white-space: nowrap;
      pointer-events: none;
      z-index: 1;
    }
    .axis {
      position: relative;
      height: 1.4em;
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
    .axis span {
      position: absolute;
      transform: translateX(-50%);
    }
    .mix-row {
      display: grid;
      grid-template-columns: minmax(5em, 9em) 1fr 5.5em;
      align-items: center;
      gap: 8px;
      margin: 3px 0;
      font-size: 0.9em;
    }
    .mix-row .label {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .mix-row .value {
      text-align: right;
      color: var(--secondary-text-color);
    }
    .track {
      height: 10px;
      background: var(--divider-color, #e0e0e0);
      border-radius: 5px;
      overflow: hidden;
    }
    .fill {
      display: block;
      height: 100%;
      background: var(--primary-color, #03a9f4);
    }
    .mix-import .fill,
    .key-import { background: var(--eh-low); }
    .mix-export .fill,
    .key-export { background: var(--eh-high); }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 12px;
      font-size: 0.8em;
      color: var(--secondary-text-color);
      align-items: center;
    }
    .key {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
    }
    .tiles {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(96px, 1fr));
      gap: 8px;
    }
    .tile {
      display: flex;
      flex-direction: column;
      gap: 2px;
      padding: 8px;
      border-radius: 8px;
      border: 2px solid transparent;
      background: color-mix(in srgb, #f9a825 calc(var(--level) * 85%), var(--secondary-background-color, #eee));
      color: var(--primary-text-color);
      min-height: 64px;
    }
    .tile .name {
      font-size: 0.8em;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .tile .power {
      font-size: 1.2em;
      font-weight: 500;
    }
    .tile .meta {
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
    .status-offline { border-color: var(--error-color, #db4437); }
    .status-warning { border-color: var(--warning-color, #ffa600); }
    svg {
      width: 100%;
      height: 120px;
      display: block;
    }
    svg .grid {
      stroke: var(--divider-color, #ccc);
      stroke-width: 1;
      vector-effect: non-scaling-stroke;
    }
    svg .line {
      fill: none;
      stroke-width: 2;
      vector-effect: non-scaling-stroke;
    }
    .s-battery_soc { stroke: var(--eh-very-low); background: var(--eh-very-low); }
    .s-battery_power { stroke: #7b1fa2; background: #7b1fa2; }
    .s-pv_power { stroke: #f9a825; background: #f9a825; }
    .s-grid_power { stroke: var(--eh-negative); background: var(--eh-negative); }
    .s-house_power { stroke: var(--primary-text-color); background: var(--primary-text-color); }
    .axis-text {
      display: flex;
      justify-content: space-between;
      font-size: 0.75em;
      color: var(--secondary-text-color);
    }
  `;function Qt(){customElements.get(rt)||customElements.define(rt,Y),Yt()}customElements.get("home-assistant")||customElements.get("hc-main")?Qt():Promise.race([customElements.whenDefined("home-assistant"),customElements.whenDefined("hc-main")]).then(Qt);window.customCards=window.customCards??[];window.customCards.some(i=>i.type===rt)||window.customCards.push({type:rt,name:"Energy Hub",description:"The next 48 hours of carbon intensity and prices, the grid mix, a plant's microinverters, a battery's days.",preview:!0,documentationURL:"https://github.com/energy-hub/energy-hub"});export{Y as EnergyHubCard,Jt as VIEWS};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
